// One party of the raw-TCP baseline of bench/fedavg.ts: the same bytes a FedAvg party sends, moved
// with nothing but node:net (no HTTP, no envelopes, no encryption, no arithmetic), to every other
// party at once. Usage (driven by bench/fedavg.ts): node bench/rawtcp-party.mjs <index> <bytesPerPeer>
// It prints "port <n>", reads the JSON list of every party's port from stdin, connects to each other
// party, sends bytesPerPeer bytes in 1 MiB writes (waiting for 'drain' as a well-behaved sender
// does), counts what it receives, and prints one JSON line: its CPU seconds and wall milliseconds.
import { createServer, connect } from 'node:net';
import { createInterface } from 'node:readline';

const me = Number(process.argv[2]);
const bytesPerPeer = Number(process.argv[3]);
const block = Buffer.alloc(1 << 20, 0x5a);

const server = createServer();
let expected = Infinity;
let received = 0;
let sendsLeft = Infinity;
let started = 0;
let cpu0 = process.cpuUsage();

function maybeDone() {
  if (received < expected || sendsLeft > 0) return;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, wallMs: performance.now() - started })}\n`);
  server.close();
  process.exit(0);
}

server.on('connection', (socket) => {
  socket.on('data', (chunk) => {
    received += chunk.length;
    maybeDone();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${server.address().port}\n`);
});

const lines = createInterface({ input: process.stdin });
lines.once('line', (line) => {
  const ports = JSON.parse(line);
  const peers = ports.map((_, j) => j).filter((j) => j !== me);
  expected = bytesPerPeer * peers.length;
  sendsLeft = peers.length;
  cpu0 = process.cpuUsage();
  started = performance.now();
  for (const j of peers) {
    const socket = connect(ports[j], '127.0.0.1', () => {
      let left = bytesPerPeer;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(block.length, left);
          left -= n;
          if (!socket.write(n === block.length ? block : block.subarray(0, n))) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    socket.on('finish', () => {
      sendsLeft--;
      maybeDone();
    });
  }
  maybeDone();
});
