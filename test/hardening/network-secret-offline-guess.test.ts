// Finding 6 of the hardening issue: the network secret could be guessed offline. GET
// /peer/identity proves knowledge of the secret with an HMAC over a challenge anyone chooses, so
// one answer lets an attacker test passphrases at memory speed (a 28-character passphrase fell in
// 0.18 s). Now the only secrets a server accepts are the ones `tessera secret` prints: 256 random
// bits with a prefix and a checksum (server/peer/trust.ts parseNetworkSecret). The attack is run
// here: against a passphrase deployment it would have worked; that deployment is now refused,
// and against a generated secret the same dictionary finds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { main, parseServeArgs } from '../../server/cli.js';
import { formatNetworkSecret, parseNetworkSecret, SECRET_PREFIX } from '../../server/peer/trust.js';
import { startTestServer } from '../support/cluster.js';
import { rawRequest } from '../support/http.js';
import { BIN, runCommand } from '../support/process.js';

const PASSPHRASE = 'correct-horse-battery-staple';
const DICTIONARY = ['password', 'hunter2hunter2hunter2', 'tessera-network-secret', PASSPHRASE, 'letmein-letmein-letmein'];

/** The offline attack: recompute the identity proof for each guess (trust.ts: HKDF, then HMAC). */
function guess(identity: { publicKey: string; bootId: string; proof: string }, challenge: Buffer, secretOf: (word: string) => Buffer | undefined): string | undefined {
  for (const word of DICTIONARY) {
    const secret = secretOf(word);
    if (secret === undefined) continue;
    const proofKey = Buffer.from(hkdfSync('sha256', secret, Buffer.from('tessera/v1/network-secret'), 'tessera/v1/identity-proof', 32));
    const proof = createHmac('sha256', proofKey).update('tessera/v1/identity').update(Buffer.from(identity.publicKey, 'base64url'))
      .update(Buffer.from(identity.bootId, 'base64url')).update(challenge).digest('base64url');
    if (proof === identity.proof) return word;
  }
  return undefined;
}

test('finding 6: a passphrase is refused with a pointer to `tessera secret`, from the flag and from the environment', () => {
  for (const [argv, env] of [[['--network-secret', PASSPHRASE], {}], [[], { TESSERA_NETWORK_SECRET: PASSPHRASE }]] as const) {
    assert.throws(() => parseServeArgs([...argv], env), /tessera secret/);
  }
  // Looks like one, but made by hand (no valid checksum): refused too.
  assert.throws(() => parseNetworkSecret(`${SECRET_PREFIX}${Buffer.alloc(36).toString('base64url')}`), /damaged/);
  assert.throws(() => parseNetworkSecret(formatNetworkSecret().slice(0, -2)), /damaged/);
});

test('finding 6: `tessera secret` prints 256 fresh random bits that every party decodes to the same key', async () => {
  const lines: string[] = [];
  assert.equal(await main(['secret'], (l) => lines.push(l)), 0);
  assert.equal(lines.length, 1);
  const secret = parseNetworkSecret(lines[0]!);
  assert.equal(secret.length, 32);
  assert.notDeepEqual(parseNetworkSecret(formatNetworkSecret()), secret, 'fresh each time');
  // The real command line, as a user runs it.
  const run = await runCommand(process.execPath, [BIN, 'secret'], { timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(parseNetworkSecret(run.stdout).length, 32);
});

test('finding 6: the offline guess against an identity proof: it works on a passphrase, finds nothing against a generated secret', async () => {
  const challenge = randomBytes(32);
  // What the attack did before: a server whose secret was a passphrase (only reachable now by
  // handing raw bytes to the library, which the CLI no longer does).
  const weak = await startTestServer({ validateResponses: false, peer: { networkSecret: Buffer.from(PASSPHRASE) } });
  const strongSecret = parseNetworkSecret(formatNetworkSecret());
  const strong = await startTestServer({ validateResponses: false, peer: { networkSecret: strongSecret } }).catch(async (err: unknown) => {
    await weak.close();
    throw err;
  });
  try {
    const ask = async (url: string) => (await rawRequest(url, `/peer/identity?challenge=${challenge.toString('base64url')}`)).json as { publicKey: string; bootId: string; proof: string };
    assert.equal(guess(await ask(weak.url), challenge, (w) => Buffer.from(w)), PASSPHRASE, 'the attack is real');
    // Against a generated secret, every word is refused before it could be one, and none matches.
    assert.equal(guess(await ask(strong.url), challenge, (w) => { try { return parseNetworkSecret(w); } catch { return undefined; } }), undefined);
    assert.equal(guess(await ask(strong.url), challenge, (w) => Buffer.from(w)), undefined);
  } finally {
    await Promise.all([weak.close(), strong.close()]);
  }
});
