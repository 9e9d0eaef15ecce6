// StatisticsContingency: the table of counts of all parties' (x, y) pairs and its mode.
//
// Construction: the union of the x categories and of the y categories by one run of the label
// mix-net (services/common/labelunion.ts, each label tagged with its axis), then one secure vector
// sum of each party's count per cell of the full product X × Y. Cells are keyed by the pair, so
// categories may contain any characters, `_` included (FSC keyed cells by "sum_{x}_{y}", so
// ("x_1", "y") and ("x", "1_y") collided). Opened: the two unions (the table's row and column
// keys, which the output shows), the mix-net's named side information (docs/simon.md) and the
// table. `mode` is the largest cell; ties go to the smallest x, then the smallest y, in Unicode
// code-point order.

import { BadInputError } from '../../errors.js';
import { withFloats } from '../../common/resultjson.js';
import { labelUnion, labelUnionStages } from '../../common/labelunion.js';
import { vectorSumStages } from '../../common/vectorsum.js';
import { enforceMinimumCount, microprotocol, unanimous } from '../engine.js';
import { countsOver, label, tally } from './categories.js';
import { modeOf } from './frequency.js';

const UNION = labelUnionStages('labels');
const COUNTS = vectorSumStages('cells');
const MAX_PAIRS = 1_000_000;
const MAX_CELLS = 1_000_000;

export interface ContingencyResult {
  table: Record<string, Record<string, number>>;
  mode: [string, string] | null;
}

function pairs(data: unknown, where = 'kwargs.data'): [string, string][] {
  if (!Array.isArray(data)) throw new BadInputError('expected a list of [x, y] pairs of categories, e.g. [["urban", "yes"]]', { where });
  if (data.length > MAX_PAIRS) throw new BadInputError(`at most ${MAX_PAIRS} pairs per party`, { where });
  return data.map((pair: unknown, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new BadInputError('expected a pair [x, y]; a single pair is written [[x, y]]', { where: `${where}[${i}]` });
    }
    return [label(pair[0], `${where}[${i}][0]`), label(pair[1], `${where}[${i}][1]`)];
  });
}

/** The key of one cell in the local tally: unambiguous for any characters. */
const cell = (x: string, y: string) => JSON.stringify([x, y]);

/** `compute(microprotocol="StatisticsContingency", data, network)`. */
export const statisticsContingency = microprotocol({
  name: 'StatisticsContingency',
  stages: [...UNION.all, ...COUNTS.all],
  disclosure: true,
  async run({ session, data, policy }) {
    const given = pairs(data);
    const local = tally(given.map(([x, y]) => cell(x, y)));
    const tagged = given.flatMap(([x, y]) => [`x${x}`, `y${y}`]);
    const union = await labelUnion(session, tagged, UNION);
    // The union is sorted by code point, and a common one-letter tag keeps each axis sorted.
    const xs = union.filter((t) => t.startsWith('x')).map((t) => t.slice(1));
    const ys = union.filter((t) => t.startsWith('y')).map((t) => t.slice(1));
    if (xs.length * ys.length > MAX_CELLS) {
      throw unanimous(new BadInputError(`the table would have ${xs.length * ys.length} cells (at most ${MAX_CELLS})`, { where: 'kwargs.data' }));
    }
    const cells = xs.flatMap((x) => ys.map((y) => [x, y] as [string, string]));
    const counts = await countsOver(session, COUNTS, cells.map(([x, y]) => cell(x, y)), local);
    enforceMinimumCount(policy, counts, 'a table cell is non-zero and');
    const table = Object.fromEntries(xs.map((x, i) => [x, Object.fromEntries(ys.map((y, j) => [y, counts[i * ys.length + j]!]))]));
    const result: ContingencyResult = { table, mode: modeOf(cells, counts) };
    return withFloats({ inputs: session.parties, result }, { result: { table: true } });
  },
});
