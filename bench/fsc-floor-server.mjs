// The FSC client's floor for bench/fsc-original.ts: a bare node:http server that answers each of
// the five requests FSC's Python client makes per SecureSum (create, attribute, compute call,
// download, release) with JSON of the same shape and media type as Tessera's, after reading the
// request's body, and computes nothing. Driving three of these with the same client processes
// gives what the client, its new connection per request and Node's HTTP server cost by
// themselves: no Tessera server can answer the same requests in less.
//
// Usage (started by bench/fsc-original.ts): node bench/fsc-floor-server.mjs; it prints
// "listening <url>" and serves until it is stopped.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const uuid = () => JSON.stringify({ type: 'uuid', uuid: randomUUID() });
// What a download answers: a SecureSum's result shape, marked so no one mistakes it for a sum.
const DOWNLOAD = JSON.stringify({ type: 'object', object: { inputs: 3, result: { floor: true } } });
const NONE = JSON.stringify({ type: 'none' });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const depth = (req.url ?? '/').split('?')[0].split('/').length - 1;
    let text;
    if (req.method === 'DELETE') text = NONE;
    else if (req.method === 'GET' && depth === 2) text = DOWNLOAD; // GET /representation/{uuid}
    else text = uuid(); // POST /representations, GET /representation/{uuid}/{name}, PATCH /representation/{uuid}
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
