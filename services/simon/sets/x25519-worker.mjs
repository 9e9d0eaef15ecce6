// A worker thread of the X25519 pool (x25519-pool.ts): applies one clamped scalar to a packed list
// of Curve25519 u-coordinates with Node's native X25519, exactly as ExponentKey.apply does on the
// main thread. Plain JavaScript on purpose: a worker does not inherit the main thread's TypeScript
// loader (bin/tessera.mjs registers tsx in-process), and this file needs nothing but node:crypto.
//
// Message in:  { id, pkcs8: Uint8Array (the private key, RFC 8410 §7), list: Uint8Array (32·k bytes) }
// Message out: { id, out: Uint8Array } or { id, bad: i } (element i has small order: OpenSSL
//              refuses the all-zero shared secret, RFC 7748 §6.1), or { id, failed: message }.
import { parentPort } from 'node:worker_threads';
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';

const ELEMENT_BYTES = 32;

parentPort.on('message', ({ id, pkcs8, list }) => {
  try {
    const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    const bytes = Buffer.from(list.buffer, list.byteOffset, list.byteLength);
    const out = new Uint8Array(list.byteLength);
    for (let i = 0, at = 0; at < bytes.length; i++, at += ELEMENT_BYTES) {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: bytes.toString('base64url', at, at + ELEMENT_BYTES) }, format: 'jwk' });
      let shared;
      try {
        shared = diffieHellman({ privateKey, publicKey });
      } catch {
        parentPort.postMessage({ id, bad: i });
        return;
      }
      out.set(shared, at);
    }
    parentPort.postMessage({ id, out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, failed: err instanceof Error ? err.message : 'the X25519 worker failed' });
  }
});
