// How the set microprotocols read `data` (the SIMON contract: a top-level list is a list of
// units). SetIntersection(Size): each unit is a list of strings and the party's set is the
// intersection of its units. StatisticsContingencyVertical: each unit is an [id, category] pair
// and a later pair with the same id replaces the earlier one. Strings are taken exactly as given
// (case, whitespace, Unicode normalisation); nothing is ever reinterpreted: a flat list of
// strings is refused rather than read as sets of characters, as the model did.

import { BadInputError } from '../../errors.js';

/** Enough for any realistic cohort; beyond it a party's list is refused, not truncated. */
export const MAX_ITEMS = 1_000_000;

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
}

/**
 * A party's set: the intersection of its lists, duplicates ignored, in first-appearance order.
 * `[]` (no lists) is the empty set: a party without data takes part and holds nothing.
 */
export function parseSetInput(data: unknown, where = 'kwargs.data'): string[] {
  const shape = 'a list of sets, each a list of strings, e.g. [["a", "b"]]';
  if (!Array.isArray(data)) {
    throw new BadInputError(`data must be ${shape}; got ${typeName(data)}`, { where });
  }
  if (data.length > 0 && data.every((unit) => typeof unit === 'string')) {
    throw new BadInputError(`data must be ${shape}: a flat list of strings is not read as sets of characters; wrap it: [[...]]`, { where });
  }
  let total = 0;
  let set: Set<string> | undefined;
  data.forEach((unit: unknown, i) => {
    if (!Array.isArray(unit)) {
      throw new BadInputError(`each set must be a list of strings, e.g. ["a", "b"]; got ${typeName(unit)}`, { where: `${where}[${i}]` });
    }
    total += unit.length;
    if (total > MAX_ITEMS) throw new BadInputError(`at most ${MAX_ITEMS} items per party`, { where: `${where}[${i}]` });
    unit.forEach((item: unknown, j) => {
      if (typeof item !== 'string') {
        throw new BadInputError(`a set item must be a string; got ${typeName(item)}`, { where: `${where}[${i}][${j}]` });
      }
    });
    const mine = new Set(unit as string[]);
    set = set === undefined ? mine : new Set([...set].filter((item) => mine.has(item)));
  });
  return [...(set ?? [])];
}

/** A party's vertical records: id → category, each id once, ids in first-appearance order. */
export interface VerticalRecords {
  readonly ids: string[];
  readonly categoryOf: Map<string, string>;
  /** Distinct categories of the final records, by first appearance in the id order. */
  readonly categories: string[];
}

export function parseVerticalInput(data: unknown, where = 'kwargs.data'): VerticalRecords {
  const shape = 'a list of [id, category] pairs of strings, e.g. [["u01", "north"], ["u02", "south"]]';
  if (!Array.isArray(data)) {
    throw new BadInputError(`data must be ${shape}; got ${typeName(data)}`, { where });
  }
  if (data.length === 2 && data.every((unit) => typeof unit === 'string')) {
    throw new BadInputError(`data must be ${shape}: a bare pair must be wrapped: [[id, category]]`, { where });
  }
  if (data.length === 0) {
    throw new BadInputError(`data must hold at least one [id, category] pair: the table's categories come from it`, { where });
  }
  if (data.length > MAX_ITEMS) throw new BadInputError(`at most ${MAX_ITEMS} pairs per party`, { where });
  const categoryOf = new Map<string, string>();
  data.forEach((pair: unknown, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new BadInputError(`each record must be an [id, category] pair; got ${Array.isArray(pair) ? `a list of ${pair.length}` : typeName(pair)}`, {
        where: `${where}[${i}]`,
      });
    }
    pair.forEach((value: unknown, j) => {
      if (typeof value !== 'string') {
        throw new BadInputError(`${j === 0 ? 'an id' : 'a category'} must be a string; got ${typeName(value)}`, { where: `${where}[${i}][${j}]` });
      }
    });
    // Map.set keeps the id's first position and replaces its category: a later pair wins.
    categoryOf.set(pair[0] as string, pair[1] as string);
  });
  const ids = [...categoryOf.keys()];
  return { ids, categoryOf, categories: [...new Set(categoryOf.values())] };
}

/** Code-point order (UTF-8 byte order equals code-point order; JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
