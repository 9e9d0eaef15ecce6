// The registry of microservices a client can create representations of. A client names what it
// wants by requirements (`create(protocol="Simon")`); a microservice matches when every
// requirement key is present in its flat description with an equal value (docs/architecture.md §2).

import { BadInputError, NotFoundError } from '../services/errors.js';
import type { Description, Microservice } from '../services/microservice.js';

export class Registry {
  readonly #services: Microservice[] = [];

  register(service: Microservice): void {
    const key = descriptionKey(service.description);
    if (this.#services.some((s) => descriptionKey(s.description) === key)) {
      // Two services with one description would make `create` ambiguous.
      throw new BadInputError(`a microservice with description ${key} is already registered`, { where: 'description' });
    }
    this.#services.push(service);
  }

  /** The descriptions, in registration order (the list a client sees). */
  descriptions(): Description[] {
    return this.#services.map((s) => ({ ...s.description }));
  }

  /** The first microservice whose description satisfies every requirement; 404 if none does. */
  match(requirements: Readonly<Record<string, unknown>>): Microservice {
    const found = this.#services.find((s) => matches(s.description, requirements));
    if (found === undefined) {
      throw new NotFoundError(`no microservice matches ${JSON.stringify(requirements)}`, { where: 'kwargs' });
    }
    return found;
  }

  all(): readonly Microservice[] {
    return this.#services;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#services.map(async (s) => s.close?.()));
  }
}

export function matches(description: Description, requirements: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(requirements).every(
    ([key, value]) => Object.hasOwn(description, key) && description[key] === value,
  );
}

function descriptionKey(description: Description): string {
  return JSON.stringify(Object.entries(description).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
