// Bounds on untrusted JSON. JSON.parse copes with any depth, but code that walks a value
// recursively later (validation, canonical serialisation, an error message quoting it) would
// exhaust the stack on a few hundred kilobytes of brackets: refuse deep values first.

/** Deepest nesting any JSON Tessera reads from others may have (bodies, headers, terms). */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests objects/arrays deeper than `maxDepth` (checked without recursion). */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // Two parallel stacks, not one of [value, depth] pairs: no allocation per nested list (a list of
  // 100,000 pairs made as many tuples).
  const items: unknown[] = [value];
  const depths: number[] = [1];
  while (items.length > 0) {
    const item = items.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(item) ? item : Object.values(item as object);
    for (let i = 0; i < children.length; i++) {
      const child: unknown = children[i];
      if (typeof child === 'object' && child !== null) {
        items.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** JSON with object keys sorted, so two parties' equal terms give equal strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}
