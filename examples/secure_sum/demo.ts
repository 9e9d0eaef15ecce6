// `npm run demo`: three parties on one machine. Starts three Tessera servers (ports 55501,
// 55502, 55503, each its own process with its own data directory), runs the three parties'
// clients in parallel with the secrets 19, 5 and 61, prints what each learns (the sum, 85),
// and stops the servers. No trust configuration: servers of one user on one machine
// authenticate each other through that user's local network secret.
//
//   npm run demo                      the classic ports 55501, 55502, 55503
//   npm run demo -- --ports 0,0,0     any free ports (what the tests use)
//   npm run demo -- --relay           a local nats-server as relay; the three parties connect to it
//                                     outbound only and are named relay://party0..2: no peer reaches
//                                     them by HTTP (their client API listens on loopback, free ports)
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DEFAULT_NODES, runParty } from './secure_sum.js';
import { parseReady } from '../../server/ready.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECRETS = [19, 5, 61];
// A cold start compiles the TypeScript (tsx): on a busy machine that alone took over 30 s.
const START_TIMEOUT_MS = 120_000;

interface Party {
  child: ChildProcess;
  url: string;
  /** How the peers name this party: its URL, or relay://party<i> behind the relay. */
  node: string;
}

function startServer(port: string, index: number, relay?: string): Promise<Party> {
  // Each party its own data directory, so each has its own identity key.
  const dataDir = join(root, '.tessera', 'demo', `party${index}`);
  const relayArgs = relay === undefined ? [] : ['--relay', relay, '--relay-name', `party${index}`];
  const child = spawn(process.execPath, [join(root, 'bin', 'tessera.mjs'), 'serve', '--port', port, '--data-dir', dataDir, '--log-level', 'warn', ...relayArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    // A server that did not get ready is stopped, not left behind: the demo stops only the servers
    // that started, and a loaded machine once left one running after the demo had failed.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`server on port ${port} did not start within ${START_TIMEOUT_MS} ms: ${out.slice(-300)}`));
    }, START_TIMEOUT_MS);
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const ready = parseReady(out);
      if (ready === undefined) return;
      const { url, node } = ready;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining what it prints later
      process.stdout.write(relay === undefined
        ? `  Tessera listening on ${url} (Swagger UI: ${url}/docs)\n`
        : `  party ${index}: peers reach it as ${node} through the relay; its client API is ${url} (loopback only)\n`);
      resolve({ child, url, node });
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

/** A local nats-server (Debian package nats-server) on a free loopback port, as the relay. */
async function startRelay(): Promise<{ child: ChildProcess; url: string }> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  // The configuration a consortium relay would use for its message limit (nats-relay.conf: 8 MiB);
  // the command line's address and port take precedence over the file's.
  const config = join(root, 'examples', 'secure_sum', 'nats-relay.conf');
  const child = spawn('nats-server', ['-c', config, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    let log = '';
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start nats-server (${err.message}); install it: sudo apt-get install nats-server`));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (!log.includes('Server is ready')) return;
      clearTimeout(timer);
      child.stderr!.resume();
      resolve({ child, url: `nats://127.0.0.1:${port}` });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ports: { type: 'string' }, relay: { type: 'boolean' } } });
  const ports = values.ports?.split(',') ?? (values.relay === true ? ['0', '0', '0'] : DEFAULT_NODES.map((url) => new URL(url).port));
  let relay: { child: ChildProcess; url: string } | undefined;
  if (values.relay === true) {
    try {
      relay = await startRelay();
    } catch (err) {
      console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    console.log(`Started a NATS relay at ${relay.url}`);
  }
  console.log(`Starting ${ports.length} Tessera servers${relay === undefined ? '' : ' that connect to the relay outbound only'} ...`);
  const started = await Promise.allSettled(ports.map((port, i) => startServer(port, i, relay?.url)));
  const parties = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const nodes = parties.map((p) => p.node);
    console.log(`Running SecureSum: party i holds secret ${SECRETS.join(', ')} and talks only to its own server ...`);
    const results = await Promise.all(SECRETS.map((secret, myself) => runParty(myself, secret, nodes, undefined, parties[myself]!.url)));
    results.forEach((result, myself) => console.log(`  party ${myself} (secret ${SECRETS[myself]}) learns ${JSON.stringify(result)}`));
    const sum = (results[0] as { result: { sum: number } }).result.sum;
    console.log(`The sum is ${sum}; no party saw another's secret.`);
    return 0;
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    // The parties first, then the relay: a relay stopped under running parties makes each of them
    // log that it lost the relay and is reconnecting, after the demo has succeeded.
    await stop(parties.map((p) => p.child));
    if (relay !== undefined) await stop([relay.child]);
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
