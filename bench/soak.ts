// `npm run bench:soak`: three party servers (separate processes) under mixed load for a bounded
// time (default 10 minutes; `-- --minutes 2`), with a fault every few seconds. Normal work:
// SecureSums and SecureFedAvgs on small models, a few at once, each checked against its exact
// result. Faults, each of which must fail cleanly (a problem, within the stage timeout) and harm
// nothing else: a party that never joins, parties that disagree on the model, garbage and
// oversized bodies on /peer/messages, an anonymous large body on /health. Prints completed,
// failed-as-expected, unexpected failures (must be 0) and each server's RSS at start and end.
//
//   npm run bench:soak [-- --minutes 10 --fault-every 3]
import { parseArgs } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Api } from '../clients/typescript/index.js';
import { printTable, startProcessCluster } from './cluster.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, 'fault-every': { type: 'string', default: '3' } } });
const MINUTES = Number(values.minutes);
const FAULT_EVERY_MS = Number(values['fault-every']) * 1000;
const STAGE_TIMEOUT_S = 3;
const CONCURRENT = 3;

function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const counts = { completed: 0, failedAsExpected: 0, unexpected: 0 };
const unexpected: string[] = [];
function wrong(what: string, detail: unknown): void {
  counts.unexpected += 1;
  if (unexpected.length < 10) unexpected.push(`${what}: ${detail instanceof Error ? detail.message : String(detail)}`.slice(0, 300));
}

async function main(): Promise<void> {
  const cluster = await startProcessCluster(3, ['--stage-timeout', String(STAGE_TIMEOUT_S)]);
  const { nodes } = cluster;
  const apis = nodes.map((url) => new Api(url, { timeoutMs: 60_000 }));
  try {
    const sum = async (k: number): Promise<void> => {
      const uuid = randomUUID();
      const results = await Promise.all(apis.map((api, myself) => api.secureSum({ data: [k, myself], network: { nodes, uuid, myself } })));
      for (const r of results) if (r.result.sum !== 3 * k + 3) throw new Error(`sum ${r.result.sum}, want ${3 * k + 3}`);
    };
    const average = async (k: number): Promise<void> => {
      const uuid = randomUUID();
      const results = await Promise.all(apis.map((api, myself) =>
        api.secureFedAvg({ tensors: { w: new Float64Array(256).fill(k + myself) }, weight: myself + 1, network: { nodes, uuid, myself } })));
      // Weighted average of k, k+1, k+2 with weights 1, 2, 3: k + 8/6.
      for (const r of results) if (Math.abs(r.w[0]! - (k + 8 / 6)) > 1e-6) throw new Error(`average ${r.w[0]}, want ${k + 8 / 6}`);
    };
    for (let k = 0; k < 3; k++) await Promise.all([sum(k), average(k)]); // warm-up
    const rssStart = cluster.children.map((c) => rss(c.pid!));

    // Each fault resolves with how it failed; `expected` says which failures are the right ones.
    const problemStatus = (err: unknown): number => Number((err as { status?: unknown }).status ?? (err as { problem?: { status?: unknown } }).problem?.status ?? 0);
    const faults: [string, () => Promise<unknown>, (outcome: unknown) => boolean][] = [
      ['a party never joins', async () => {
        const uuid = randomUUID();
        await Promise.all([0, 1].map((myself) => apis[myself]!.secureSum({ data: [1], network: { nodes, uuid, myself } })));
      }, (err) => problemStatus(err) === 504 && /party 2/.test(String((err as Error).message))],
      ['parties disagree on the model', async () => {
        const uuid = randomUUID();
        await Promise.all(apis.map((api, myself) =>
          api.secureFedAvg({ tensors: { w: new Float64Array(myself === 2 ? 8 : 16) }, weight: 1, network: { nodes, uuid, myself } })));
      }, (err) => [400, 409, 502].includes(problemStatus(err))],
      ['garbage peer message', async () => {
        throw Object.assign(new Error('garbage'), { status: (await fetch(`${nodes[0]}/peer/messages`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(2048) })).status });
      }, (err) => problemStatus(err) === 400],
      ['anonymous large body on an open path', async () => {
        const res = await fetch(`${nodes[1]}/health`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: `[${'0,'.repeat(4 * 1024 * 1024)}0]` })
          .catch(() => ({ status: 413 })); // cut off before the body was read: as good as the 413
        throw Object.assign(new Error('large body'), { status: res.status });
      }, (err) => problemStatus(err) === 413],
    ];

    const started = Date.now();
    const deadline = started + MINUTES * 60_000;
    let k = 0;
    const worker = async (): Promise<void> => {
      while (Date.now() < deadline) {
        const n = k++;
        try {
          await (n % 2 === 0 ? sum(n) : average(n));
          counts.completed += 1;
        } catch (err) {
          wrong(n % 2 === 0 ? 'SecureSum' : 'SecureFedAvg', err);
        }
      }
    };
    const faulter = async (): Promise<void> => {
      for (let f = 0; Date.now() < deadline; f++) {
        await new Promise((r) => setTimeout(r, FAULT_EVERY_MS));
        const [name, fault, expected] = faults[f % faults.length]!;
        const t0 = Date.now();
        try {
          await fault();
          wrong(name, 'succeeded');
        } catch (err) {
          // Failing is the point; failing slowly, or with the wrong problem, is not.
          if (Date.now() - t0 > 2 * STAGE_TIMEOUT_S * 1000 + 5000) wrong(name, `failed after ${Date.now() - t0} ms: ${(err as Error).message}`);
          else if (!expected(err)) wrong(name, `failed wrongly (${problemStatus(err)}): ${(err as Error).message}`);
          else counts.failedAsExpected += 1;
        }
      }
    };
    await Promise.all([...Array.from({ length: CONCURRENT }, worker), faulter()]);
    const rssEnd = cluster.children.map((c) => rss(c.pid!));

    console.log(`\nSoak: ${MINUTES} min, 3 parties, ${CONCURRENT} computations at once, a fault every ${FAULT_EVERY_MS / 1000} s\n`);
    printTable(['completed', 'failed as expected', 'unexpected failures'], [[counts.completed, counts.failedAsExpected, counts.unexpected]]);
    console.log('');
    printTable(['server', 'RSS start (MiB)', 'RSS end (MiB)'], rssStart.map((r, i) => [`party ${i}`, mib(r), mib(rssEnd[i]!)]));
    for (const line of unexpected) console.log(`unexpected: ${line}`);
    process.exitCode = counts.unexpected === 0 ? 0 : 1;
  } finally {
    await cluster.close();
  }
}

await main();
