// Sync.Barrier: the clients of one server wait until `parties` of them have arrived at a named
// barrier. Reusable: once it opens, the next arrivals start a new round (a cyclic barrier).
//
// The model's polling interface is offered too, so its SyncApi.join_barrier works unchanged:
// `create(uuid)` gives a barrier instance with arrive/arrived/depart/departed/reset.

import { BadInputError, ConflictError, LimitError } from '../errors.js';
import { SERVER_OBJECT, type Member, type Microservice, type ServerObject } from '../microservice.js';
import { bindArguments, optionalInteger, optionalSeconds, requireString } from '../util/args.js';
import { boundedWait, type Waiter } from './wait.js';

export const BARRIER_DESCRIPTION = Object.freeze({
  namespace: 'federatedsecure',
  plugin: 'Sync',
  version: '0.6.0',
  microservice: 'Barrier',
});

export interface SyncLimits {
  /** Named barriers (or broadcast channels) at most. Default 1000. */
  maxNames?: number;
  /** Parties of one barrier at most. Default 1000. */
  maxParties?: number;
  /** Default wait when the client gives no timeout_seconds. Default 60 s. */
  defaultTimeoutMs?: number;
  /** Longest wait a client may ask for. Default 3600 s. */
  maxTimeoutSeconds?: number;
}

interface Round {
  readonly parties: number;
  readonly waiting: Set<Waiter<void>>;
}

export function createBarrier(limits: SyncLimits = {}): Microservice {
  const maxNames = limits.maxNames ?? 1000;
  const maxParties = limits.maxParties ?? 1000;
  const defaultTimeoutMs = limits.defaultTimeoutMs ?? 60_000;
  const maxTimeoutSeconds = limits.maxTimeoutSeconds ?? 3600;
  const rounds = new Map<string, Round>();
  const instances = new Map<string, ServerObject>();

  const wait: Member = async (args, kwargs, ctx) => {
    const bound = bindArguments(
      'wait',
      [{ name: 'name', aliases: ['uuid'] }, { name: 'parties' }, { name: 'timeout_seconds' }],
      args,
      kwargs,
    );
    const name = requireString(bound, 'name');
    const parties = optionalInteger(bound, 'parties', 1, maxParties);
    if (parties === undefined) throw new BadInputError('parties is required', { where: 'parties' });
    const timeoutMs = optionalSeconds(bound, 'timeout_seconds', maxTimeoutSeconds) ?? defaultTimeoutMs;

    let round = rounds.get(name);
    if (round === undefined) {
      if (rounds.size >= maxNames) throw new LimitError(`at most ${maxNames} barriers wait at once`, { where: 'name' });
      round = { parties, waiting: new Set() };
      rounds.set(name, round);
    } else if (round.parties !== parties) {
      throw new ConflictError(`barrier '${name}' is waiting for ${round.parties} parties, not ${parties}`, { where: 'parties' });
    }
    const current = round;
    const waiter = boundedWait<void>({
      timeoutMs,
      signal: ctx.signal,
      where: name,
      timeoutMessage: () => `barrier '${name}' timed out with ${current.waiting.size + 1} of ${current.parties} parties`,
      onGiveUp: () => {
        current.waiting.delete(waiter);
        if (current.waiting.size === 0 && rounds.get(name) === current) rounds.delete(name);
      },
    });
    current.waiting.add(waiter);
    if (current.waiting.size >= current.parties) {
      // Open: everyone waiting goes on; the next arrival starts a fresh round.
      rounds.delete(name);
      for (const w of current.waiting) w.settle();
    }
    await waiter.promise;
    return undefined;
  };

  const create: Member = (args, kwargs) => {
    const uuid = requireString(bindArguments('create', [{ name: 'uuid', aliases: ['name'] }], args, kwargs), 'uuid');
    let instance = instances.get(uuid);
    if (instance === undefined) {
      if (instances.size >= maxNames) throw new LimitError(`at most ${maxNames} barrier instances`, { where: 'uuid' });
      instance = createBarrierInstance(maxParties);
      instances.set(uuid, instance);
    }
    return instance;
  };

  const remove: Member = (args, kwargs) => {
    const uuid = requireString(bindArguments('delete', [{ name: 'uuid', aliases: ['name'] }], args, kwargs), 'uuid');
    instances.delete(uuid);
    return undefined;
  };

  return {
    [SERVER_OBJECT]: true,
    description: BARRIER_DESCRIPTION,
    members: Object.freeze({ wait, create, delete: remove }),
    close() {
      rounds.clear();
      instances.clear();
    },
  };
}

/** The model's polling barrier: parties announce arrival and departure; clients poll the counts. */
function createBarrierInstance(maxParties: number): ServerObject {
  const arrivals = new Set<string>();
  const departures = new Set<string>();
  const partyOf = (member: string, args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): string => {
    const bound = bindArguments(member, [{ name: 'party' }], args, kwargs);
    const party = bound.get('party');
    if (typeof party !== 'string' && !(typeof party === 'number' && Number.isInteger(party))) {
      throw new BadInputError('party must be a string or an integer', { where: 'party' });
    }
    return String(party);
  };
  const add = (set: Set<string>, party: string): void => {
    if (!set.has(party) && set.size >= maxParties) throw new LimitError(`at most ${maxParties} parties`, { where: 'party' });
    set.add(party);
  };
  const members: Record<string, Member> = {
    arrive: (args, kwargs) => {
      add(arrivals, partyOf('arrive', args, kwargs));
      return undefined;
    },
    arrived: (args, kwargs) => {
      bindArguments('arrived', [], args, kwargs);
      return arrivals.size;
    },
    depart: (args, kwargs) => {
      add(departures, partyOf('depart', args, kwargs));
      return undefined;
    },
    departed: (args, kwargs) => {
      bindArguments('departed', [], args, kwargs);
      return departures.size;
    },
    reset: (args, kwargs) => {
      bindArguments('reset', [], args, kwargs);
      arrivals.clear();
      departures.clear();
      return undefined;
    },
  };
  return { [SERVER_OBJECT]: true, members: Object.freeze(members) };
}
