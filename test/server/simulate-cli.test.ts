// `tessera simulate`: ten parties in one process, the result on stdout with float fields as
// floats; a bad input names the party and the field; usage errors exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../server/cli.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const errors: string[] = [];
  const origWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    errors.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args, (l) => out.push(l));
    return { code, out: out.join('\n'), err: errors.join('') };
  } finally {
    process.stderr.write = origWrite;
  }
}

test('ten parties: StatisticsFrequency and SecureSum, without a server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-simulate-'));
  try {
    const file = join(dir, 'data.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ['even', 'all'] : ['odd', 'all']))));
    const frequency = await cli(['simulate', '--parties', '10', '--microprotocol', 'StatisticsFrequency', '--data', file]);
    assert.equal(frequency.code, 0, frequency.err);
    assert.equal(frequency.out, '{"inputs":10,"result":{"histogram":{"all":10.0,"even":5.0,"odd":5.0},"mode":"all"}}');
    assert.match(frequency.err, /10 parties/);
    writeFileSync(file, JSON.stringify(Array.from({ length: 10 }, (_, i) => i)));
    const sum = await cli(['simulate', '--parties', '10', '--microprotocol', 'SecureSum', '--data', file]);
    assert.equal(JSON.parse(sum.out).result.sum, 45);
    writeFileSync(file, JSON.stringify([1, 2, 'three']));
    const bad = await cli(['simulate', '--parties', '3', '--microprotocol', 'SecureSum', '--data', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /party 2: 400 expected a number, got string \(at kwargs\.data\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2 and say what is missing', async () => {
  assert.equal((await cli(['simulate', '--microprotocol', 'SecureSum', '--data', 'x'])).code, 2);
  const wrongCount = await cli(['simulate', '--parties', '2', '--microprotocol', 'SecureSum', '--data', '/nonexistent.json']);
  assert.equal(wrongCount.code, 2);
  assert.match(wrongCount.err, /--data/);
});
