// The ready line of `tessera serve` and its one parser (server/ready.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReadyLine, parseReadyLine } from '../../server/ready.js';

const URL = 'http://127.0.0.1:55501';

const cases: [string, { given: string; want: string | undefined }][] = [
  ['the line alone', { given: `${formatReadyLine(URL)}\n`, want: URL }],
  ['after the human lines', { given: `Tessera listening on ${URL}\nSwagger UI: ${URL}/docs\n${formatReadyLine(URL)}\n`, want: URL }],
  ['the human line only (its wording is for people)', { given: `Tessera listening on ${URL}\n`, want: undefined }],
  ['a line cut short by a chunk boundary', { given: formatReadyLine(URL).slice(0, 30), want: undefined }],
  ['another event', { given: `${JSON.stringify({ event: 'stopping', url: URL })}\n`, want: undefined }],
  ['a url that is not a string', { given: `${JSON.stringify({ event: 'listening', url: 1 })}\n`, want: undefined }],
  ['JSON null', { given: 'null\n{}\n', want: undefined }],
];
for (const [name, { given, want }] of cases) {
  test(`parseReadyLine: ${name}`, () => {
    assert.equal(parseReadyLine(given), want);
  });
}

test('the ready line is one JSON object on one line', () => {
  const line = formatReadyLine('https://party.example:8443');
  assert.ok(!line.includes('\n'));
  assert.deepEqual(JSON.parse(line), { event: 'listening', url: 'https://party.example:8443' });
});
