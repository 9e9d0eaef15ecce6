// A worker for the X25519 pool (services/simon/sets/x25519-pool.ts) that does the real work for
// its first `after` pieces and then fails the way `workerData.fault` says, so the failure tests
// can check that the pool, the protocol and its peers fail promptly instead of waiting:
//   throw:  an uncaught exception in the worker (the pool sees an 'error' event);
//   exit:   the worker thread exits (an 'exit' event, no answer);
//   silent: the piece is never answered (a stuck worker or a lost message);
//   failed: the worker answers that it failed.
import { parentPort, workerData } from 'node:worker_threads';
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';

const { fault, after = 0 } = workerData;
let served = 0;

parentPort.on('message', ({ id, pkcs8, list }) => {
  if (served++ >= after) {
    if (fault === 'throw') throw new Error('planted failure in an X25519 worker');
    if (fault === 'exit') process.exit(7);
    if (fault === 'silent') return;
    if (fault === 'failed') return parentPort.postMessage({ id, failed: 'planted failure' });
  }
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const out = new Uint8Array(list.byteLength);
  for (let at = 0; at < list.byteLength; at += 32) {
    const x = Buffer.from(list.buffer, list.byteOffset + at, 32).toString('base64url');
    out.set(diffieHellman({ privateKey, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' }) }), at);
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
