// `tessera simulate --parties 10 --microprotocol NAME --data FILE`: every party of a network in
// this one process (services/simulation), on the same engine and cryptography as real servers.
// FILE is a JSON list with one `data` value per party. Prints the result every party downloaded
// (once, when all agree) as JSON on stdout, and the cost on stderr.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { simulate } from '../services/simulation/index.js';
import { writeResultJson } from '../services/common/resultjson.js';
import { TesseraError } from '../services/errors.js';

export const SIMULATE_USAGE = `Usage: tessera simulate --parties <n> --microprotocol <name> --data <file> [options]

Run every party of a SIMON computation in this process over an in-memory network: the same
protocols and cryptography as real servers, without starting them.

Options:
  --parties <n>               number of parties (1 to 1000)
  --microprotocol <name>      e.g. SecureSum, StatisticsUnivariate, StatisticsFrequency
  --data <file>               a JSON list with one data value per party ('-' reads stdin)
  --min-cell-count <k>        the disclosure policy every party runs with (default off)
  --timeout <seconds>         how long a stage waits for a party (default 30)`;

export async function runSimulate(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        parties: { type: 'string' },
        microprotocol: { type: 'string' },
        data: { type: 'string' },
        'min-cell-count': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    err(`tessera simulate: ${e instanceof Error ? e.message : String(e)}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  if (v.help === true) {
    out(SIMULATE_USAGE);
    return 0;
  }
  const usage = (message: string): number => {
    err(`tessera simulate: ${message}\nRun 'tessera simulate --help' for the options.`);
    return 2;
  };
  const parties = Number(v.parties);
  if (v.parties === undefined || !Number.isInteger(parties) || parties < 1 || parties > 1000) return usage('--parties must be an integer from 1 to 1000');
  if (v.microprotocol === undefined || v.microprotocol === '') return usage('--microprotocol is required');
  if (v.data === undefined) return usage('--data is required (a JSON list with one value per party)');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(v.data === '-' ? 0 : v.data, 'utf8'));
  } catch (e) {
    return usage(`--data: cannot read JSON from ${v.data}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(data) || data.length !== parties) return usage(`--data must be a JSON list of ${parties} values (one per party)`);
  const minCellCount = v['min-cell-count'] === undefined ? undefined : Number(v['min-cell-count']);
  if (minCellCount !== undefined && (!Number.isInteger(minCellCount) || minCellCount < 1)) return usage('--min-cell-count must be a positive integer');
  const timeout = v.timeout === undefined ? 30 : Number(v.timeout);
  if (!(timeout > 0 && timeout <= 86_400)) return usage('--timeout must be a number of seconds from 0 to 86400');

  const run = await simulate({
    parties,
    microprotocol: v.microprotocol,
    data,
    timeoutMs: timeout * 1000,
    ...(minCellCount !== undefined ? { disclosure: { minCellCount } } : {}),
  });
  const texts = run.results.map((r) => (r.ok ? writeResultJson(r.value) : undefined));
  const failed = run.results.flatMap((r, i) => (r.ok ? [] : [[i, r.error] as const]));
  for (const [i, e] of failed) {
    const where = e instanceof TesseraError && e.where !== undefined && !e.message.includes(e.where) ? ` (at ${e.where})` : '';
    err(`party ${i}: ${e instanceof TesseraError ? `${e.status} ` : ''}${e.message}${where}`);
  }
  if (failed.length === 0) {
    if (texts.every((t) => t === texts[0])) out(texts[0]!);
    else texts.forEach((t, i) => out(`party ${i}: ${t}`));
  }
  err(`${parties} parties, ${run.milliseconds.toFixed(1)} ms, bytes sent per party: ${run.bytesSent.join(' ')}`);
  return failed.length === 0 ? 0 : 1;
}
