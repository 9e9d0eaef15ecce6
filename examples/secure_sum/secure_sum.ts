// One party's client of the classic secure-sum example, as `python secure_sum.py 0 19` is in
// Federated Secure Computing: it talks only to its own server (nodes[myself]) and learns the sum.
//
//   npx tsx examples/secure_sum/secure_sum.ts <myself> <secret> [--nodes url0,url1,url2] [--uuid U]
//
// Start the servers first, one per party:  npx tessera serve --port 55501  (and 55502, 55503).
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Api } from '../../clients/typescript/index.js';

export const DEFAULT_NODES = ['http://127.0.0.1:55501', 'http://127.0.0.1:55502', 'http://127.0.0.1:55503'];
// The classic example hard-codes one network uuid; every run is a new computation all the same.
export const DEFAULT_UUID = 'a7f4fea2-b5f4-4d64-9705-45b3629a8145';

/** `server`: where this party's client reaches its own server, when that is not nodes[myself] (a relay://<name> party). */
export async function runParty(myself: number, secret: number, nodes = DEFAULT_NODES, uuid = DEFAULT_UUID, server = nodes[myself]!) {
  const api = new Api(server);
  const simon = await api.create<'compute'>({ protocol: 'Simon' });
  const result = await simon.compute({ microprotocol: 'SecureSum', data: secret, network: { nodes, uuid, myself } });
  const value = await api.download(result);
  await Promise.all([api.release(result), api.release(simon)]);
  return value;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { nodes: { type: 'string' }, uuid: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [myselfText, secretText] = positionals;
  if (values.help || myselfText === undefined || secretText === undefined) {
    console.log('usage: secure_sum.ts <myself> <secret> [--nodes url0,url1,...] [--uuid uuid]');
    return values.help ? 0 : 2;
  }
  const nodes = values.nodes?.split(',') ?? DEFAULT_NODES;
  const myself = Number(myselfText);
  const secret = Number(secretText);
  if (!Number.isInteger(myself) || myself < 0 || myself >= nodes.length || !Number.isFinite(secret)) {
    console.error(`myself must be 0..${nodes.length - 1} and secret a number`);
    return 2;
  }
  const result = await runParty(myself, secret, nodes, values.uuid ?? DEFAULT_UUID);
  console.log(JSON.stringify(result));
  return 0;
}

// Run as a script (not imported): compared as URLs, so a path that needs percent-encoding matches.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
