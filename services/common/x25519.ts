// Fresh X25519 private keys without generateKeyPairSync.
//
// Node 20 (OpenSSL 3.0) can deadlock its main thread when a key made by generateKeyPairSync is
// exported: the export holds the key's mutex while it allocates, the allocation may run a garbage
// collection, and the collection's weak callback (~KeyGenJob, the finished sync job) waits for
// that same mutex. Seen with gdb in a 3 × 10,000 set intersection that went quiet with every
// thread idle; no timer fires on a blocked main thread, so no abort ever leaves. A key imported
// from random bytes never has a KeyGenJob behind it.

import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

/** PKCS #8 header of a raw 32-byte X25519 private key (RFC 8410 §7). */
export const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** SPKI header of a raw 32-byte X25519 public key (RFC 8410 §4). */
export const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** A private key from 32 bytes of Node's CSPRNG; X25519 clamps the scalar itself (RFC 7748 §5). */
export function freshX25519PrivateKey(): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, randomBytes(32)]), format: 'der', type: 'pkcs8' });
}

/** A fresh key pair, the public key also as its 32 raw bytes. */
export function freshX25519(): { privateKey: KeyObject; publicKey: KeyObject; publicRaw: Buffer } {
  const privateKey = freshX25519PrivateKey();
  const publicKey = createPublicKey(privateKey);
  const publicRaw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
  return { privateKey, publicKey, publicRaw };
}
