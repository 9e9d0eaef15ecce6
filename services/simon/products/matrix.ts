// Reading matrices and vectors from a SIMON `data` argument, their fixed-point encoding, and the
// local linear algebra of vertical OLS.
//
// Units (FSC's task.py feeds a list item by item; SIMON's matrix accumulators keep the last item):
// a party's `data` is a list of units and a later unit replaces an earlier one, so a matrix X is
// passed as `[X]` and a vector y as `[y]`. A bare matrix or bare vector is refused (FSC would
// misread it: a bare matrix keeps only its last row) with the expected shape in the message.
//
// Fixed point: every entry is rounded to a multiple of 2^-64 (ENTRY, |x| < 2^63); the product of
// two entries has scale 2^-128 (PRODUCT). The integer product is exact, so a result entry is the
// exact Σ_k x̃_ik·ỹ_kj of the rounded inputs, rounded once to the nearest double. Entries that are
// multiples of 2^-64 (integers, halves, quarters, …) are exact; any entry x is off by at most
// 2^-65 (a relative 2^-65/|x|, below 1e-9 for |x| > 3e-11).

import { BadInputError, TooLargeError } from '../../errors.js';
import { FixedPoint } from '../../common/fixedpoint.js';
import { Ring } from '../../common/ring.js';

export const ENTRY = new FixedPoint(new Ring(128), 64, { headroomBits: 0 });
/** Scale 2^-128, wide enough for any Σ of products of ENTRY values that fits a Paillier plaintext. */
export const PRODUCT = new FixedPoint(new Ring(2112), 128, { headroomBits: 0 });

/** Largest matrix one party may give (the encrypted side costs ~10 ms and 512 bytes per entry). */
export const MAX_ENTRIES = 1_000_000;

export interface Shape {
  readonly rows: number;
  readonly cols: number;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

/** A finite JSON number (booleans, strings, null refused), naming its place. */
export function checkNumber(v: unknown, where: string): number {
  if (typeof v !== 'number') throw new BadInputError(`${where} must be a number, got ${typeName(v)}`, { where });
  if (Number.isNaN(v)) throw new BadInputError(`${where} is NaN`, { where });
  if (!Number.isFinite(v)) throw new BadInputError(`${where} is infinite`, { where });
  return v;
}

/** The list of units in `data`, refusing what is not a non-empty list. */
function units(data: unknown, where: string, expected: string): unknown[] {
  if (!Array.isArray(data) || data.length === 0) {
    throw new BadInputError(`${where} must be ${expected}`, { where });
  }
  return data;
}

/**
 * `[X]`: a list holding a matrix as a list of rows of equal length (the last unit wins).
 * `name` ("X", "Y") and `example` make the error say which shape was expected.
 */
export function parseMatrixData(data: unknown, name: string, where = 'kwargs.data'): number[][] {
  const expected = `[${name}], a list holding the matrix ${name} as a list of rows, e.g. [[[1, 2], [3, 4]]]`;
  const list = units(data, where, expected);
  // A bare matrix is a list of rows of numbers: its units would be read as matrices of scalars.
  if (list.some((u) => typeof u === 'number' || (Array.isArray(u) && u.some((row) => typeof row === 'number')))) {
    throw new BadInputError(`${where} must be ${expected}; it holds rows of numbers, as a bare matrix does (wrap it: [${name}])`, { where });
  }
  let matrix: number[][] = [];
  list.forEach((unit, u) => {
    const at = `${where}[${u}]`;
    if (!Array.isArray(unit) || unit.length === 0) {
      throw new BadInputError(`${at} must be the matrix ${name}: a non-empty list of rows, got ${typeName(unit)}${Array.isArray(unit) ? ' with no rows' : ''}`, { where: at });
    }
    const rows = unit.map((row: unknown, r) => {
      const rowAt = `${at}[${r}]`;
      if (!Array.isArray(row) || row.length === 0) {
        throw new BadInputError(`${rowAt} must be a non-empty list of numbers (a row of ${name}), got ${typeName(row)}`, { where: rowAt });
      }
      return row.map((v: unknown, c) => checkNumber(v, `${rowAt}[${c}]`));
    });
    const cols = rows[0]!.length;
    rows.forEach((row, r) => {
      if (row.length !== cols) {
        throw new BadInputError(`${at}[${r}] has ${row.length} entries but row 0 has ${cols}: every row of ${name} must have the same length`, { where: `${at}[${r}]` });
      }
    });
    if (rows.length * cols > MAX_ENTRIES) {
      throw new TooLargeError(`${name} has ${rows.length}×${cols} entries; at most ${MAX_ENTRIES}`, { where: at });
    }
    matrix = rows;
  });
  return matrix;
}

/** `[y]`: a list holding a vector as a list of numbers (the last unit wins). */
export function parseVectorData(data: unknown, name: string, where = 'kwargs.data'): number[] {
  const expected = `[${name}], a list holding the vector ${name} as a list of numbers, e.g. [[1.2, 2.9, 4.1]]`;
  const list = units(data, where, expected);
  if (list.some((u) => typeof u === 'number')) {
    throw new BadInputError(`${where} must be ${expected}; it holds numbers, as a bare vector does (wrap it: [${name}])`, { where });
  }
  let vector: number[] = [];
  list.forEach((unit, u) => {
    const at = `${where}[${u}]`;
    if (!Array.isArray(unit) || unit.length === 0) {
      throw new BadInputError(`${at} must be the vector ${name}: a non-empty list of numbers, got ${typeName(unit)}${Array.isArray(unit) ? ' with no entries' : ''}`, { where: at });
    }
    if (unit.length > MAX_ENTRIES) throw new TooLargeError(`${name} has ${unit.length} entries; at most ${MAX_ENTRIES}`, { where: at });
    vector = unit.map((v: unknown, i) => checkNumber(v, `${at}[${i}]`));
  });
  return vector;
}

/** Fixed-point integers (signed, scale 2^64) of a matrix; `where` names each entry's place. */
export function encodeMatrix(m: readonly (readonly number[])[], where: (r: number, c: number) => string): bigint[][] {
  return m.map((row, r) => row.map((x, c) => ENTRY.ring.toSigned(ENTRY.encode(x, where(r, c)))));
}

/** The double nearest to a signed integer of scale 2^-128. */
export function decodeProduct(v: bigint, where: string): number {
  return PRODUCT.decode(PRODUCT.ring.reduce(v), where);
}

/** ‖x‖₂ without overflow or underflow (scaled by the largest magnitude, as hypot does). */
function euclidean(x: Float64Array): number {
  let scale = 0;
  for (const t of x) scale = Math.max(scale, Math.abs(t));
  if (scale === 0) return 0;
  let s = 0;
  for (const t of x) s += (t / scale) ** 2;
  return scale * Math.sqrt(s);
}

/**
 * M = (XᵀX)⁻¹Xᵀ (p×N) for an N×p design matrix X, through a Householder QR decomposition
 * X = QR (Golub & Van Loan, "Matrix Computations", 4th ed., §5.2): M = R⁻¹Qᵀ, without forming
 * XᵀX, whose condition number is the square of X's. A column whose remaining norm after the
 * reflections is negligible lies in the span of the columns before it: XᵀX is singular, and
 * the error names that column.
 */
export function leastSquaresOperator(X: readonly (readonly number[])[], where: string): number[][] {
  const N = X.length;
  const p = X[0]!.length;
  if (N < p) {
    throw new BadInputError(`X has ${N} rows and ${p} columns: with fewer rows than columns the columns of X are linearly dependent and XᵀX is singular`, { where });
  }
  // Column-major working copy: a[j][i] = X[i][j].
  const a = Array.from({ length: p }, (_, j) => Float64Array.from(X, (row) => row[j]!));
  const norms = a.map(euclidean);
  const reflectors: Float64Array[] = [];
  const diag = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const col = a[j]!;
    const x = col.subarray(j);
    const norm = euclidean(x);
    const tolerance = 64 * Number.EPSILON * Math.max(N, p) * norms[j]!;
    if (norms[j] === 0 || norm <= tolerance) {
      const span = j === 0 ? '' : ` lies in the span of column${j === 1 ? ' 0' : `s 0–${j - 1}`}`;
      throw new BadInputError(
        norms[j] === 0
          ? `the columns of X are linearly dependent: column ${j} is all zeros, so XᵀX is singular`
          : `the columns of X are linearly dependent: column ${j}${span}, so XᵀX is singular`,
        { where, extra: { column: j } },
      );
    }
    const alpha = x[0]! > 0 ? -norm : norm;
    const v = Float64Array.from(x);
    v[0]! -= alpha;
    const vv = v.reduce((s, t) => s + t * t, 0);
    for (let c = j; c < p; c++) {
      const target = a[c]!.subarray(j);
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * target[i]!;
      const f = (2 * s) / vv;
      for (let i = 0; i < v.length; i++) target[i]! -= f * v[i]!;
    }
    reflectors.push(v);
    diag[j] = alpha;
  }
  // Thin Q (N×p, column-major): apply H_0…H_{p−1} to the first p columns of the identity.
  const q = Array.from({ length: p }, (_, c) => {
    const e = new Float64Array(N);
    e[c] = 1;
    for (let j = p - 1; j >= 0; j--) {
      const v = reflectors[j]!;
      const vv = v.reduce((s, t) => s + t * t, 0);
      const target = e.subarray(j);
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * target[i]!;
      const f = (2 * s) / vv;
      for (let i = 0; i < v.length; i++) target[i]! -= f * v[i]!;
    }
    return e;
  });
  // R is upper triangular: R[r][c] = a[c][r] for r < c, diag[r] on the diagonal.
  const rAt = (r: number, c: number) => (r === c ? diag[r]! : a[c]![r]!);
  // M = R⁻¹Qᵀ by back substitution, one column of Qᵀ (a row of Q) at a time.
  const M = Array.from({ length: p }, () => new Array<number>(N).fill(0));
  const m = new Float64Array(p);
  for (let k = 0; k < N; k++) {
    for (let r = p - 1; r >= 0; r--) {
      let s = q[r]![k]!;
      for (let c = r + 1; c < p; c++) s -= rAt(r, c) * m[c]!;
      m[r] = s / rAt(r, r);
    }
    for (let r = 0; r < p; r++) M[r]![k] = m[r]!;
  }
  return M;
}
