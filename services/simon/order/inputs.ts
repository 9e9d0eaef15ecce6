// Parsing the `data` of the order-statistics microprotocols (the shapes FSC's clients send; docs/simon.md). Errors
// name the field and never quote a value: the message also reaches the other parties (abort).

import { BadInputError } from '../../errors.js';

/** Per party, as for SecureSum. */
export const MAX_VALUES = 1_000_000;

export function finiteNumber(value: unknown, where: string): number {
  if (typeof value !== 'number') {
    throw new BadInputError(`expected a number, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`, { where });
  }
  if (!Number.isFinite(value)) throw new BadInputError('expected a finite number (not NaN or ±Infinity)', { where });
  return value;
}

/** A number or a flat list of numbers (SecureMedian, StatisticsUnivariate). */
export function numberList(data: unknown, where = 'kwargs.data'): number[] {
  if (!Array.isArray(data)) return [finiteNumber(data, where)];
  if (data.length > MAX_VALUES) throw new BadInputError(`at most ${MAX_VALUES} numbers per party`, { where });
  return data.map((x, i) => finiteNumber(x, `${where}[${i}]`));
}

export function record(value: unknown, where: string, shape: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadInputError(`expected a record ${shape}`, { where });
  }
  return value as Record<string, unknown>;
}

/**
 * The units of a record-valued `data`: a bare record is one unit, a list holds units
 * (docs/simon.md). Returns each unit with the path errors name it by.
 */
export function units(data: unknown, where = 'kwargs.data'): { value: unknown; where: string }[] {
  if (!Array.isArray(data)) return [{ value: data, where }];
  if (data.length > MAX_VALUES) throw new BadInputError(`at most ${MAX_VALUES} records per party`, { where });
  return data.map((value, i) => ({ value, where: `${where}[${i}]` }));
}
