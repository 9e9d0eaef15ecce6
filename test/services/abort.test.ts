// The abort notice a party sends when it gives up, and the error its peers raise from it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { abortError, abortNotice } from '../../services/abort.js';
import { PeerError, TimeoutError } from '../../services/errors.js';

const PARTY0 = 'party 0 (http://127.0.0.1:55500)';
const PARTY2 = 'party 2 (http://127.0.0.1:55502)';

describe('abortError: what a party raises when a peer aborts', () => {
  test('an abort for the sender\'s own reason names the sender (502)', () => {
    const err = abortError(PARTY2, 2, abortNotice('BadInputError: invalid input at kwargs.data', { slug: 'bad-input', where: 'kwargs.data' }));
    assert.ok(err instanceof PeerError);
    assert.equal(err.where, PARTY2);
    assert.equal(err.extra?.party, 2);
    assert.match(err.message, /^party 2 .* aborted the computation: BadInputError: invalid input at kwargs\.data$/);
  });

  test('an abort passed on for another party (its cause names that party) names that party, and says who passed it on', () => {
    const err = abortError(PARTY0, 0, abortNotice(`PeerError: ${PARTY2} aborted the computation: BadInputError: invalid input at kwargs.data`, { slug: 'peer-failed', where: PARTY2 }));
    assert.ok(err instanceof PeerError);
    assert.equal(err.where, PARTY2);
    assert.equal(err.extra?.party, 2);
    assert.match(err.message, /^party 0 .* aborted the computation: PeerError: party 2 /);
  });

  test('a timeout passed on names every missing party (504)', () => {
    const err = abortError(PARTY0, 0, abortNotice('gave up waiting', { slug: 'timeout', where: `${PARTY2}, party 3 (http://127.0.0.1:55503)` }));
    assert.ok(err instanceof TimeoutError);
    assert.deepEqual(err.extra?.missing, [2, 3]);
  });
});
