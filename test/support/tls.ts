// Test certificates for HTTPS servers (the harness's TLS pair): a private CA and server
// certificates for 127.0.0.1 and localhost, made with openssl per run in a folder the caller
// owns, with P-256 keys. Pass a leaf as `tls: { cert, key, ca }` to startTestServer/startCluster.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

/** A CA (self-signed, CA:TRUE) named `name` in `dir` (files `${name}.pem`, `${name}.key`). */
export async function makeCa(dir: string, name: string): Promise<Pem> {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert: await readFile(join(dir, `${name}.pem`), 'utf8'), key: await readFile(join(dir, `${name}.key`), 'utf8') };
}

/**
 * A server certificate for 127.0.0.1 and localhost, signed by the CA named `ca` in `dir` (or
 * self-signed without one); `names`: other subjectAltName entries instead (e.g. `DNS:localhost`
 * alone, for a host-name check to fail on 127.0.0.1).
 */
export async function makeLeaf(dir: string, name: string, ca?: string, names = 'IP:127.0.0.1,DNS:localhost'): Promise<Pem> {
  const san = `subjectAltName=${names}`;
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
