// The result writer: float-typed fields carry a decimal point, everything else is JSON.stringify's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatSpecOf, withFloats, writeResultJson } from '../../../services/common/resultjson.js';

const cases: [string, { value: unknown; spec: Parameters<typeof withFloats>[1]; want: string }][] = [
  ['an integral float gets ".0"', { value: { samples: 6 }, spec: { samples: true }, want: '{"samples":6.0}' }],
  ['ints stay ints', { value: { inputs: 3, samples: 6 }, spec: { samples: true }, want: '{"inputs":3,"samples":6.0}' }],
  ['a wildcard with exceptions', { value: { a: 1, minimum: 1, b: 2.5 }, spec: { '*': true, minimum: false }, want: '{"a":1.0,"minimum":1,"b":2.5}' }],
  ['nested tables', { value: { t: { x: { y: 0 } } }, spec: { t: true }, want: '{"t":{"x":{"y":0.0}}}' }],
  ['exponents and negatives', { value: [1e21, -2, 1e-7, -0], spec: true, want: '[1e+21,-2.0,1e-7,0.0]' }],
  ['null stays null', { value: { v: null }, spec: true, want: '{"v":null}' }],
  ['strings and keys are escaped as JSON.stringify does', { value: { 'a"b': 'c\u2028' }, spec: true, want: JSON.stringify({ 'a"b': 'c\u2028' }) }],
  ['lists of lists', { value: { product: [[1, 2], [3.5, 4]] }, spec: { product: true }, want: '{"product":[[1.0,2.0],[3.5,4.0]]}' }],
];
for (const [name, { value, spec, want }] of cases) {
  test(name, () => {
    const marked = withFloats(structuredClone(value) as object, spec);
    assert.equal(writeResultJson(marked), want);
    assert.deepEqual(JSON.parse(writeResultJson(marked)), value === null ? null : JSON.parse(JSON.stringify(value)));
  });
}

test('the mark is invisible to JSON.stringify and to the object\'s keys', () => {
  const marked = withFloats({ sum: 6 }, { sum: true });
  assert.equal(JSON.stringify(marked), '{"sum":6}');
  assert.deepEqual(Object.keys(marked), ['sum']);
  assert.deepEqual(floatSpecOf(marked), { sum: true });
  assert.equal(floatSpecOf({ sum: 6 }), undefined);
});
