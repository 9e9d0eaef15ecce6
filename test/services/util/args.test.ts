// Reading a member's arguments (services/util/args.ts), as the model's clients pass them: each
// parameter positionally or by name (or an alias), never both; every mistake a 400 naming its place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BadInputError } from '../../../services/errors.js';
import { bindArguments, jsonSize, optionalInteger, optionalSeconds, requirePresent, requireString } from '../../../services/util/args.js';

const PARAMS = [{ name: 'key', aliases: ['name'] }, { name: 'value' }];

/** Asserts that `run` throws a BadInputError at `where` whose message matches `message`. */
function refuses(run: () => unknown, where: string, message: RegExp): void {
  assert.throws(run, (err: unknown) => err instanceof BadInputError && err.where === where && message.test(err.message));
}

test('positional, keyword and alias arguments bind to the parameter names', () => {
  assert.deepEqual([...bindArguments('set', PARAMS, ['k', 1], {})], [['key', 'k'], ['value', 1]]);
  assert.deepEqual([...bindArguments('set', PARAMS, ['k'], { value: 2 })], [['key', 'k'], ['value', 2]]);
  assert.deepEqual([...bindArguments('set', PARAMS, [], { name: 'k' })], [['key', 'k']]);
});

test('surplus positional, unknown keyword and doubly given arguments are refused, naming them', () => {
  refuses(() => bindArguments('set', PARAMS, [1, 2, 3], {}), 'args[2]', /at most 2 positional/);
  refuses(() => bindArguments('set', PARAMS, [], { valeu: 1 }), 'kwargs.valeu', /no parameter 'valeu'/);
  refuses(() => bindArguments('set', PARAMS, ['k'], { name: 'k' }), 'kwargs.name', /'key' twice/);
});

test('the readers check type and range, naming the parameter', () => {
  const bound = new Map<string, unknown>([['s', 'text'], ['empty', ''], ['n', 5], ['f', 2.5], ['t', 1.5]]);
  assert.equal(requireString(bound, 's'), 'text');
  refuses(() => requireString(bound, 'empty'), 'empty', /non-empty string/);
  refuses(() => requireString(bound, 's', 3), 's', /longer than 3/);
  refuses(() => requirePresent(bound, 'absent'), 'absent', /required/);
  assert.equal(optionalInteger(bound, 'n', 0, 10), 5);
  assert.equal(optionalInteger(bound, 'absent', 0, 10), undefined);
  refuses(() => optionalInteger(bound, 'f', 0, 10), 'f', /integer from 0 to 10/);
  refuses(() => optionalInteger(bound, 'n', 6, 10), 'n', /integer from 6 to 10/);
  assert.equal(optionalSeconds(bound, 't', 60), 1500);
  refuses(() => optionalSeconds(bound, 'n', 4), 'n', /seconds from 0 to 4/);
  assert.equal(jsonSize({ a: 'é' }), Buffer.byteLength('{"a":"é"}'));
});
