// `npm run demo`: three parties on one machine. Starts three Tessera servers (ports 55501,
// 55502, 55503, each its own process with its own data directory), runs the three parties'
// clients in parallel with the secrets 19, 5 and 61, prints what each learns (the sum, 85),
// and stops the servers. No trust configuration: servers of one user on one machine
// authenticate each other through that user's local network secret.
//
//   npm run demo                      the classic ports 55501, 55502, 55503
//   npm run demo -- --ports 0,0,0     any free ports (what the tests use)
import { spawn, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DEFAULT_NODES, runParty } from './secure_sum.js';
import { parseReadyLine } from '../../server/ready.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECRETS = [19, 5, 61];
const START_TIMEOUT_MS = 30_000;

interface Party {
  child: ChildProcess;
  url: string;
}

function startServer(port: string, index: number): Promise<Party> {
  // Each party its own data directory, so each has its own identity key.
  const dataDir = join(root, '.tessera', 'demo', `party${index}`);
  const child = spawn(process.execPath, [join(root, 'bin', 'tessera.mjs'), 'serve', '--port', port, '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server on port ${port} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const url = parseReadyLine(out);
      if (url === undefined) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining what it prints later
      process.stdout.write(`  Tessera listening on ${url} (Swagger UI: ${url}/docs)\n`);
      resolve({ child, url });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server on port ${port} exited with code ${code} (is the port in use?)`));
    });
  });
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ports: { type: 'string' } } });
  const ports = values.ports?.split(',') ?? DEFAULT_NODES.map((url) => new URL(url).port);
  console.log(`Starting ${ports.length} Tessera servers ...`);
  const started = await Promise.allSettled(ports.map((port, i) => startServer(port, i)));
  const parties = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const children = parties.map((p) => p.child);
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const nodes = parties.map((p) => p.url);
    console.log(`Running SecureSum: party i holds secret ${SECRETS.join(', ')} and talks only to its own server ...`);
    const results = await Promise.all(SECRETS.map((secret, myself) => runParty(myself, secret, nodes)));
    results.forEach((result, myself) => console.log(`  party ${myself} (secret ${SECRETS[myself]}) learns ${JSON.stringify(result)}`));
    const sum = (results[0] as { result: { sum: number } }).result.sum;
    console.log(`The sum is ${sum}; no party saw another's secret.`);
    return 0;
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await stop(children);
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
