import pino from 'pino';
const root = process.argv[2]!; const which = process.argv[3]!;
const { MemoryHub } = await import(`${root}/services/simulation/network.ts`);
const { secureMatrixMultiplication } = await import(`${root}/services/simon/products/secure-matrix-multiplication.ts`);
const { regressionOLSVertical } = await import(`${root}/services/simon/products/regression-ols-vertical.ts`);
const { serverPaillierKey } = await import(`${root}/services/common/paillier.ts`);
const silent = pino({ level: 'silent' });
let seed = 7; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 100;
const key = await serverPaillierKey();
async function run(name: string, entry: any, data: unknown[]) {
  const hub = new MemoryHub(['http://a.test', 'http://b.test'], 900_000);
  const s = process.cpuUsage(); const w = performance.now();
  await Promise.all(data.map((d, myself) => entry({ data: d, network: { nodes: hub.nodes, uuid: 'u' + Math.random(), myself } }, { signal: new AbortController().signal, peers: hub.network(myself), log: silent })));
  const c = process.cpuUsage(s);
  console.log(root.includes('before') ? 'before' : 'after ', name, '| CPU s (both parties):', ((c.user + c.system) / 1e6).toFixed(1), '| wall s', ((performance.now() - w) / 1000).toFixed(1));
}
const m = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, rnd));
if (which === 'matrix') await run('SecureMatrixMultiplication 12×12 · 12×12', secureMatrixMultiplication, [[m(12, 12)], [m(12, 12)]]);
if (which === 'ols') {
  const X = Array.from({ length: 1000 }, () => [1, rnd(), rnd()]); const y = X.map(() => rnd());
  await run('OLS N = 1,000, p = 3 (pool empty)', regressionOLSVertical, [[X], [y]]);
  if ((key as any).pooled !== undefined) {
    const t = performance.now();
    while ((key as any).pooled < 1000) await new Promise((r) => setTimeout(r, 500));
    console.log('after  offline phase: 1,000 randomisers pooled in', ((performance.now() - t) / 1000).toFixed(1), 's wall');
    await run('OLS N = 1,000, p = 3 (1,000 randomisers pooled)', regressionOLSVertical, [[X], [y]]);
  }
}
process.exit(0);
