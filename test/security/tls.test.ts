// HTTPS (SECURITY.md "Transport"): servers serve HTTPS with --tls-cert/--tls-key, reach https peers
// with verified certificates, trust private CAs given with --tls-ca, and refuse a peer whose
// certificate does not verify, naming it. The certificates are made here, with openssl, per run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/main.js';
import { within } from '../within.js';
import { ProblemError, RawClient, rawRequest } from '../support/http.js';

interface Pem {
  cert: string;
  key: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

/** A CA (self-signed, CA:TRUE) with a P-256 key. */
async function makeCa(dir: string, name: string): Promise<Pem> {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert: await readFile(join(dir, `${name}.pem`), 'utf8'), key: await readFile(join(dir, `${name}.key`), 'utf8') };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca` (or self-signed without one). */
async function makeLeaf(dir: string, name: string, ca?: string): Promise<Pem> {
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  if (ca === undefined) {
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', san]);
  } else {
    await writeFile(join(dir, `${name}.ext`), `${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=127.0.0.1']);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`,
      '-days', '2', '-extfile', `${name}.ext`]);
  }
  return { cert: await readFile(join(dir, `${name}.pem`), 'utf8'), key: await readFile(join(dir, `${name}.key`), 'utf8') };
}

describe('HTTPS between clients and servers and between peers', { timeout: 120_000 }, () => {
  let dir: string;
  let ca: Pem;
  let otherCa: Pem;
  const servers: RunningServer[] = [];
  const secret = randomBytes(32);

  async function start(leaf: Pem, trusted: string[], stageTimeoutMs = 3000): Promise<RunningServer> {
    const server = await startServer({
      dataDir: await mkdtemp(join(dir, 'party-')),
      logLevel: 'silent',
      validateResponses: true,
      tls: { cert: leaf.cert, key: leaf.key, ca: trusted },
      peer: { networkSecret: secret, stageTimeoutMs },
    });
    servers.push(server);
    return server;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-tls-'));
    ca = await makeCa(dir, 'ca');
    otherCa = await makeCa(dir, 'other-ca');
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  test('three HTTPS servers with certificates of a private CA compute a SecureSum', async () => {
    const leaves = await Promise.all([0, 1, 2].map((i) => makeLeaf(dir, `leaf${i}`, 'ca')));
    const parties = await Promise.all(leaves.map((leaf) => start(leaf, [ca.cert])));
    const nodes = parties.map((p) => p.url);
    for (const url of nodes) assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const uuid = randomUUID();
    const results = await within(30_000, 'sum over https', Promise.all(
      [19, 5, 61].map((data, myself) => new RawClient(nodes[myself]!, { ca: ca.cert }).secureSum(data, { nodes, uuid, myself })),
    ));
    for (const r of results) assert.deepEqual(r, { inputs: 3, result: { samples: 3, sum: 85 } });
    await Promise.all(parties.map((p) => p.close()));
  });

  test('a client that does not trust the CA cannot talk to the server (the certificate is really checked)', async () => {
    const leaf = await makeLeaf(dir, 'leaf-client', 'ca');
    const server = await start(leaf, [ca.cert]);
    await assert.rejects(rawRequest(server.url, '/health', { ca: otherCa.cert }), (err: NodeJS.ErrnoException) => err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const ok = await rawRequest(server.url, '/health', { ca: ca.cert });
    assert.equal(ok.status, 200);
    // Plain HTTP on the HTTPS port gets nothing useful.
    await assert.rejects(rawRequest(server.url.replace('https:', 'http:'), '/health', { timeoutMs: 5000 }).then((r) => {
      if (r.status === 200) throw new Error('served plain HTTP');
      throw new Error(`refused with ${r.status}`);
    }));
    await server.close();
  });

  test('a peer whose certificate does not verify is refused, named, before anything is sent to it', async () => {
    const good = await Promise.all([0, 1].map((i) => makeLeaf(dir, `good${i}`, 'ca')));
    const stranger = await makeLeaf(dir, 'stranger', 'other-ca');
    const [p0, p1] = await Promise.all(good.map((leaf) => start(leaf, [ca.cert], 2000)));
    // Party 2 trusts both CAs, but parties 0 and 1 trust only theirs.
    const p2 = await start(stranger, [ca.cert, otherCa.cert], 2000);
    const nodes = [p0!.url, p1!.url, p2.url];
    const uuid = randomUUID();
    const started = Date.now();
    const outcomes = await within(20_000, 'untrusted peer', Promise.allSettled(
      [1, 2, 3].map((data, myself) => new RawClient(nodes[myself]!, { ca: myself === 2 ? otherCa.cert : ca.cert }).secureSum(data, { nodes, uuid, myself })),
    ));
    for (const myself of [0, 1]) {
      const outcome = outcomes[myself]!;
      assert.equal(outcome.status, 'rejected');
      const err = (outcome as PromiseRejectedResult).reason as ProblemError;
      assert.ok(err instanceof ProblemError, String(err));
      assert.equal(err.status, 502);
      assert.equal(err.problem.where, `party 2 (${p2.url})`);
      assert.match(String(err.problem.detail), /TLS certificate did not verify/);
    }
    // Party 2 was never sent anything by 0 or 1: it times out waiting for them.
    assert.equal(outcomes[2]!.status, 'rejected');
    assert.ok(Date.now() - started < 15_000);
    await Promise.all([p0!.close(), p1!.close(), p2.close()]);
  });

  test('self-signed certificates work when each party is given the others\' (a server trusts its own)', async () => {
    const leaves = await Promise.all([0, 1].map((i) => makeLeaf(dir, `self${i}`)));
    const parties = await Promise.all(leaves.map((leaf, i) => start(leaf, [leaves[1 - i]!.cert])));
    const nodes = parties.map((p) => p.url);
    const uuid = randomUUID();
    const results = await within(30_000, 'self-signed', Promise.all(
      [2.5, 4].map((data, myself) => new RawClient(nodes[myself]!, { ca: leaves[myself]!.cert }).secureSum(data, { nodes, uuid, myself })),
    ));
    for (const r of results) assert.equal(r.result.sum, 6.5);
    await Promise.all(parties.map((p) => p.close()));
  });
});
