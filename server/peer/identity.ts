// This server's long-term X25519 identity (RFC 7748) and the per-user local network secret.
//
// Both are created once, atomically (written to a private temporary file, then hard-linked into
// place, so two servers starting at the same time never read a half-written key), with file
// mode 0600 inside a 0700 directory, and loaded on every later start. Key material is generated
// only when the file does not exist yet, so a normal start writes no secret to disk.

import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { freshX25519PrivateKey } from '../../services/common/x25519.js';
import { chmod, link, lstat, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadInputError } from '../../services/errors.js';
import type { Logger } from '../../services/microservice.js';
import { fromBase64Url } from './codec.js';

export interface Identity {
  readonly privateKey: KeyObject;
  /** Raw 32-byte X25519 public key, base64url. */
  readonly publicKey: string;
  readonly publicKeyBytes: Buffer;
  /** Random per process start: binds envelopes to this run, so nothing replays across a restart. */
  readonly bootId: string;
  readonly bootIdBytes: Buffer;
}

export const IDENTITY_FILE = 'identity.json';
export const LOCAL_SECRET_FILE = 'local-network-secret';

/** Creates `path` with `content` only if it does not exist yet; returns false when someone else won. */
async function createExclusive(path: string, content: Buffer | string): Promise<boolean> {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Creates `path` from `make()` only when it does not exist yet (ENOENT); `make` runs only then.
 * Returns true when this call created the file; false when it existed or a concurrent start won.
 */
async function createIfMissing(path: string, make: () => Buffer | string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return createExclusive(path, make());
}

async function warnIfLoose(path: string, log: Logger): Promise<void> {
  // lstat, never stat: a symbolic link in place of a key file would have us read (and chmod) its
  // target, wherever it points; refused instead.
  const info = await lstat(path);
  if (info.isSymbolicLink() || !info.isFile()) {
    throw new BadInputError(`${path} is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; a key file must be a plain file in the data directory`, { where: 'dataDir' });
  }
  const { mode } = info;
  if ((mode & 0o077) !== 0) {
    log.warn({ path, mode: (mode & 0o777).toString(8) }, 'key file is readable by other users; tightening to 0600');
    await chmod(path, 0o600);
  }
}

interface IdentityFile {
  version: 1;
  kty: 'OKP';
  crv: 'X25519';
  x: string;
  d: string;
}

function freshIdentityFile(): string {
  const jwk = freshX25519PrivateKey().export({ format: 'jwk' });
  const fresh: IdentityFile = { version: 1, kty: 'OKP', crv: 'X25519', x: jwk.x!, d: jwk.d! };
  return `${JSON.stringify(fresh)}\n`;
}

/**
 * The data directory holds the identity key: other users must not be able to replace files in it
 * (group- or world-writable: refused) and should not read it (group or world bits: tightened to
 * 0700 with a warning, as key files are).
 */
async function checkDataDir(dataDir: string, log: Logger): Promise<void> {
  const { mode } = await stat(dataDir);
  if ((mode & 0o022) !== 0) {
    throw new BadInputError(`${dataDir} is writable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 700 on it`, { where: 'dataDir' });
  }
  if ((mode & 0o077) !== 0) {
    log.warn({ path: dataDir, mode: (mode & 0o777).toString(8) }, 'data directory is readable by other users; tightening to 0700');
    await chmod(dataDir, 0o700);
  }
}

export async function loadOrCreateIdentity(dataDir: string, log: Logger): Promise<Identity> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await checkDataDir(dataDir, log);
  const path = join(dataDir, IDENTITY_FILE);
  const created = await createIfMissing(path, freshIdentityFile);
  await warnIfLoose(path, log);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // Say what is wrong: an unreadable file (EACCES: another user's) is not a corrupt one.
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BadInputError(`${path} cannot be read (${code}${code === 'EACCES' ? ': this server\'s user has no permission to read it' : ''})`, { where: 'dataDir' });
  }
  let stored: Partial<IdentityFile>;
  try {
    stored = JSON.parse(text) as Partial<IdentityFile>;
  } catch {
    throw new BadInputError(`${path} is not a Tessera identity file`, { where: 'dataDir' });
  }
  if (stored.kty !== 'OKP' || stored.crv !== 'X25519' || !fromBase64Url(stored.x, 32) || !fromBase64Url(stored.d, 32)) {
    throw new BadInputError(`${path} does not hold an X25519 key`, { where: 'dataDir' });
  }
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: stored.x, d: stored.d }, format: 'jwk' });
  // The stored public half must be the one the private half gives, or peers would pin a lie.
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (x === undefined || x !== stored.x) throw new BadInputError(`${path}: public and private key do not match`, { where: 'dataDir' });
  if (created) log.info({ path, publicKey: x }, 'created a new peer identity key');
  const bootIdBytes = randomBytes(16);
  return {
    privateKey: key,
    publicKey: x,
    publicKeyBytes: fromBase64Url(x, 32)!,
    bootId: bootIdBytes.toString('base64url'),
    bootIdBytes,
  };
}

/**
 * The secret of trust mode "local": 32 random bytes only this OS user can read. Every server this
 * user starts on this machine shares it, so they authenticate each other with no configuration,
 * and no other user (or machine) can join their computations.
 */
export async function loadOrCreateLocalSecret(userConfigDir: string, log: Logger): Promise<Buffer> {
  await mkdir(userConfigDir, { recursive: true, mode: 0o700 });
  await chmod(userConfigDir, 0o700).catch(() => undefined);
  const path = join(userConfigDir, LOCAL_SECRET_FILE);
  if (await createIfMissing(path, () => randomBytes(32))) log.info({ path }, 'created the local network secret');
  await warnIfLoose(path, log);
  const secret = await readFile(path);
  if (secret.length !== 32) {
    throw new BadInputError(`${path} must hold exactly 32 bytes; delete it to make a new one`, { where: 'userConfigDir' });
  }
  return secret;
}
