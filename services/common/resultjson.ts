// Results whose numbers are floats on the wire. FSC's SIMON results carry counts and statistics
// as Python floats (`"samples": 6.0`), and its Python client keeps JSON's distinction: `6` reads
// as an int, `6.0` as a float. JavaScript has one number type and JSON.stringify(6.0) is "6", so
// a result says which of its fields are floats, and the download path writes those with a
// decimal point (writeResultJson). The mark is a symbol-keyed property: invisible to
// JSON.stringify, to response validation and to anything that walks the object's own keys.

/**
 * Which numbers of a value are floats: `true` (this number, or every number below it), `false`
 * (none below it), or per key, where "*" stands for every key or index not named explicitly.
 */
export type FloatSpec = boolean | { readonly [key: string]: FloatSpec };

const FLOATS = Symbol.for('tessera.floatFields');

/** Marks `value`'s float-typed numbers (see FloatSpec) and returns it. */
export function withFloats<T extends object>(value: T, spec: FloatSpec): T {
  Object.defineProperty(value, FLOATS, { value: spec, enumerable: false });
  return value;
}

/** The float marks of a value, if it has any. */
export function floatSpecOf(value: unknown): FloatSpec | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as { [FLOATS]?: FloatSpec })[FLOATS];
}

function child(spec: FloatSpec, key: string): FloatSpec {
  if (typeof spec === 'boolean') return spec;
  if (Object.hasOwn(spec, key)) return spec[key]!;
  return spec['*'] ?? false;
}

/** A float's JSON text: as JSON.stringify, plus ".0" where that would read as an integer. */
function floatText(x: number): string {
  const text = JSON.stringify(x); // NaN and ±Infinity become null, as in JSON.stringify
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

/**
 * JSON text of `value` as JSON.stringify writes it (same key order, no whitespace), except that
 * the numbers `spec` marks as floats always carry a decimal point or an exponent.
 */
export function writeResultJson(value: unknown, spec: FloatSpec = floatSpecOf(value) ?? false): string {
  if (spec === false) return JSON.stringify(value) ?? 'null';
  if (typeof value === 'number') return floatText(value);
  if (Array.isArray(value)) return `[${value.map((v, i) => writeResultJson(v ?? null, child(spec, String(i)))).join(',')}]`;
  if (typeof value === 'object' && value !== null && !('toJSON' in value && typeof value.toJSON === 'function')) {
    const parts: string[] = [];
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(`${JSON.stringify(key)}:${writeResultJson(v, child(spec, key))}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
