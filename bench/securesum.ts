// `npm run bench:sum`: three party servers (separate processes), clients in this process.
// Prints the latency of one SecureSum (min, median, p95 over RUNS runs) with one number and with
// 100 numbers per party, the HTTP requests it takes, and the throughput of 100 concurrent sums.
//
//   npm run bench:sum [-- --runs 200 --parties 3]
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Api, type Remote } from '../clients/typescript/index.js';
import { printTable, quantile, startProcessCluster } from './cluster.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100' }, parties: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const PARTIES = Number(values.parties);

/** Counts the HTTP requests the clients make (the peer messages are counted by the protocol). */
let clientRequests = 0;
const countingFetch: typeof fetch = (input, init) => {
  clientRequests += 1;
  return fetch(input, init);
};

async function main(): Promise<void> {
  const cluster = await startProcessCluster(PARTIES);
  try {
    const apis = cluster.nodes.map((url) => new Api(url, { fetch: countingFetch, timeoutMs: 60_000 }));
    // A client creates the microservice and its compute member once and calls it per sum, as a
    // long-running analysis script would.
    const computes: Remote[] = await Promise.all(
      apis.map(async (api) => (await api.create({ protocol: 'Simon' })).attribute('compute')),
    );
    const oneSum = async (dataFor: (party: number) => unknown): Promise<number> => {
      const uuid = randomUUID();
      const started = performance.now();
      await Promise.all(
        apis.map(async (api, myself) => {
          const result = await computes[myself]!.call({
            microprotocol: 'SecureSum',
            data: dataFor(myself),
            network: { nodes: cluster.nodes, uuid, myself },
          });
          await api.download(result);
          await api.release(result);
        }),
      );
      return performance.now() - started;
    };

    // Warm-up: identities fetched and connections opened once, as in any long-running server.
    for (let i = 0; i < 10; i++) await oneSum((p) => p + 1);

    const rows: (string | number)[][] = [];
    for (const [name, dataFor] of [
      ['1 number per party', (p: number) => p + 0.5],
      ['100 numbers per party', (p: number) => Array.from({ length: 100 }, (_, k) => p * 1000 + k / 7)],
    ] as const) {
      const before = clientRequests;
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await oneSum(dataFor));
      times.sort((a, b) => a - b);
      const perSum = (clientRequests - before) / RUNS;
      rows.push([name, RUNS, times[0]!.toFixed(2), quantile(times, 0.5).toFixed(2), quantile(times, 0.95).toFixed(2), perSum.toFixed(0), PARTIES * (PARTIES - 1) * 2]);
    }
    console.log(`\nSecureSum latency, ${PARTIES} parties (servers in separate processes, ms)\n`);
    printTable(['input', 'runs', 'min', 'median', 'p95', 'client HTTP requests', 'peer messages (2 rounds)'], rows);

    const concurrent = 100;
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrent }, () => oneSum((p) => p)));
    const seconds = (performance.now() - started) / 1000;
    console.log(`\nThroughput: ${concurrent} concurrent SecureSums in ${seconds.toFixed(2)} s = ${(concurrent / seconds).toFixed(1)} sums/s\n`);
  } finally {
    await cluster.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
