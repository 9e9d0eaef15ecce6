// n parties of one computation in this process, on the in-memory peer network of the protocol
// unit tests (services/simulation/network.ts), with the order blocks' stages declared.
import { MemoryHub } from '../../../../services/simulation/network.js';
import type { Session } from '../../../../services/peer.js';
import { orderStages } from '../../../../services/simon/order/index.js';

export const PREFIX = 'test';

export async function runParties<T>(
  n: number,
  body: (session: Session, party: number) => Promise<T>,
  hub = new MemoryHub(Array.from({ length: n }, (_, i) => `http://party${i}.test`), 120_000),
): Promise<T[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const session = await hub.network(i).open({
        uuid: 'order-test',
        myself: i,
        terms: { microprotocol: 'OrderTest', nodes: hub.nodes },
        stages: orderStages(PREFIX),
      });
      try {
        return await body(session, i);
      } finally {
        session.close();
      }
    }),
  );
}
