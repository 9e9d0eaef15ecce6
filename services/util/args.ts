// Reading a member's arguments the way the model's Python client passes them: each parameter
// either positionally (args[i]) or by name (kwargs[name]), never both. Errors name the parameter.

import { BadInputError } from '../errors.js';

export interface Parameter {
  readonly name: string;
  /** Other names the model's clients use for the same parameter (e.g. `uuid` for `name`). */
  readonly aliases?: readonly string[];
}

/**
 * Bind args/kwargs to a parameter list. Unknown keyword arguments and surplus positional ones are
 * a 400 naming them, so a typo never silently falls back to a default.
 */
export function bindArguments(
  member: string,
  params: readonly Parameter[],
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): Map<string, unknown> {
  if (args.length > params.length) {
    throw new BadInputError(`${member} takes at most ${params.length} positional arguments, got ${args.length}`, {
      where: `args[${params.length}]`,
    });
  }
  const bound = new Map<string, unknown>();
  const known = new Map<string, string>();
  for (const p of params) {
    known.set(p.name, p.name);
    for (const alias of p.aliases ?? []) known.set(alias, p.name);
  }
  params.forEach((p, i) => {
    if (i < args.length) bound.set(p.name, args[i]);
  });
  for (const [key, value] of Object.entries(kwargs)) {
    const name = known.get(key);
    if (name === undefined) {
      throw new BadInputError(`${member} has no parameter '${key}'`, { where: `kwargs.${key}` });
    }
    if (bound.has(name)) {
      throw new BadInputError(`${member} got '${name}' twice`, { where: `kwargs.${key}` });
    }
    bound.set(name, value);
  }
  return bound;
}

export function requireString(bound: Map<string, unknown>, name: string, maxLength = 256): string {
  const value = bound.get(name);
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadInputError(`${name} must be a non-empty string`, { where: name });
  }
  if (value.length > maxLength) {
    throw new BadInputError(`${name} is longer than ${maxLength} characters`, { where: name });
  }
  return value;
}

export function requirePresent(bound: Map<string, unknown>, name: string): unknown {
  if (!bound.has(name)) throw new BadInputError(`${name} is required`, { where: name });
  return bound.get(name);
}

export function optionalInteger(bound: Map<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = bound.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BadInputError(`${name} must be an integer from ${min} to ${max}`, { where: name });
  }
  return value;
}

/** Seconds from a client, as milliseconds; bounded so that every wait ends. */
export function optionalSeconds(bound: Map<string, unknown>, name: string, maxSeconds: number): number | undefined {
  const value = bound.get(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > maxSeconds) {
    throw new BadInputError(`${name} must be a number of seconds from 0 to ${maxSeconds}`, { where: name });
  }
  return Math.round(value * 1000);
}

/** Approximate size of a JSON value in bytes, to bound what services store. */
export function jsonSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
}
