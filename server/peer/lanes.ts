// The lanes: one FIFO of opens per network uuid. Two computations on one uuid at this server run
// one after the other, in the order their clients called; since every party does the same, the
// i-th open here meets the i-th open at every other party (services/peer.ts, "instances").

import { TimeoutError } from '../../services/errors.js';

/** A place in a uuid's lane: wait for the turn (bounded), or give the place up. */
export interface LaneTicket {
  wait(timeoutMs: number): Promise<void>;
  cancel(): void;
}

interface Lane {
  busy: boolean;
  readonly queue: (() => void)[];
}

export class Lanes {
  private readonly lanes = new Map<string, Lane>();

  /** Joins the lane of `uuid`: the turn is immediate when nobody runs on it here. */
  enqueue(uuid: string): LaneTicket {
    let lane = this.lanes.get(uuid);
    if (!lane) {
      lane = { busy: false, queue: [] };
      this.lanes.set(uuid, lane);
    }
    const current = lane;
    if (!current.busy) {
      current.busy = true;
      return { wait: () => Promise.resolve(), cancel: () => this.release(uuid) };
    }
    let grant: () => void = () => undefined;
    let isGranted = false;
    const turn = new Promise<void>((resolve) => {
      grant = () => {
        isGranted = true;
        resolve();
      };
    });
    current.queue.push(grant);
    return {
      wait: async (timeoutMs) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new TimeoutError(`an earlier computation on network uuid ${uuid} is still running here after ${timeoutMs} ms`, { where: 'kwargs.network.uuid' })),
            timeoutMs,
          );
        });
        try {
          await Promise.race([turn, late]);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: () => {
        if (isGranted) this.release(uuid);
        else current.queue.splice(current.queue.indexOf(grant), 1);
      },
    };
  }

  /** The computation holding the turn on `uuid` ended: the next one in line runs. */
  release(uuid: string): void {
    const lane = this.lanes.get(uuid);
    if (!lane) return;
    const next = lane.queue.shift();
    if (next) next();
    else this.lanes.delete(uuid);
  }
}
