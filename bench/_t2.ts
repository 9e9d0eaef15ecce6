import { simulate } from '../services/simulation/index.js';
const data = (p: number, n: number) => Array.from({ length: n }, (_, k) => ((p + 1) * 7919 * (k + 1)) % 1003 / 8);
const t = performance.now();
await simulate({ parties: 3, microprotocol: 'MinimumMaximum', data: [0, 1, 2].map((p) => data(p, 100).map((x) => ({ minimum: x, maximum: x }))), timeoutMs: 60000 });
console.log('MinimumMaximum', (performance.now() - t).toFixed(1));
