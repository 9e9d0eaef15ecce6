// Every SIMON microprotocol through the Python package's typed functions, against three real
// servers: each party's call goes through a recording proxy in front of its own server, so the
// test checks the exact request the server receives (the wire shape SIMON reads, built from
// natural Python arguments) and then what the user gets back. The cases are SIMON's examples.
//
// SecureSum is offered by the server today and is checked end to end against its result. The
// other microprotocols are answered 501 by this server version: for them the test checks the clear
// Python exception (status 501, where = kwargs.microprotocol, naming the server). When a server
// offers one, add its name to OFFERED and its case's `result` is checked instead.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../support/cluster.js';
import { describeRun, PYTHON_PACKAGE_PATH, ROOT, runPython } from './python.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { FSC_UNIVARIATE_EXAMPLE } from '../../services/simon/reference.js';

const TIMEOUT_MS = 60_000;
const PARTY = join(ROOT, 'test', 'clients', 'python', 'party.py');

/** The microprotocols this server computes; every other one must answer 501. */
const OFFERED = new Set(['SecureSum', 'SecureMatrixMultiplication', 'SecureMedian', 'KthElement', 'MinimumMaximum', 'SetIntersection', 'SetIntersectionSize', 'StatisticsUnivariate', 'StatisticsBivariate', 'StatisticsFrequency', 'StatisticsContingency', 'StatisticsContingencyVertical', 'StatisticsRegressionOLSVertical']);

interface Party {
  /** Positional and keyword arguments of the Python function, after `network`-less ones. */
  args: unknown[];
  kwargs?: Record<string, unknown>;
  /** The `data` the server must receive. */
  wire: unknown;
}
interface Case {
  parties: Party[];
  result: unknown;
}

const univariate = FSC_UNIVARIATE_EXAMPLE;
const X = [[1, 0, -2, 3], [2, 1, 0, -1]];
const Y = [[1, 2], [0, -1], [3, 1], [-2, 0.5]];
const kth = (array: number[]): Party => ({ args: [array, 3, -50, 50], wire: { array, rank: 3, lower_bound: -50, upper_bound: 50 } });
const same = (data: unknown): Party => ({ args: [data], wire: data });
const wrapped = (data: unknown): Party => ({ args: [data], wire: [data] });
const design = [[1, 0.5], [1, 1.5], [1, 2.0], [1, 3.5], [1, 4.0]];
const y = [1.2, 2.9, 4.1, 6.8, 8.3];

const CASES: Record<string, Case> = {
  SecureSum: { parties: [same([12.5, -3.75]), same(40), same([0.125, 2, -100])], result: { samples: 6, sum: -49.125 } },
  SecureMatrixMultiplication: { parties: [wrapped(X), wrapped(Y)], result: { product: [[-11, 1.5], [4, 2.5]] } },
  SecureMedian: { parties: [same([7, -1.5, 3.5]), same([12.25]), same([0, 3.5, 5, 9.75, -4])], result: { median: 3.5 } },
  KthElement: { parties: [kth([15, -8, 42]), kth([-30, 15]), kth([0, 27, 15, -8])], result: { item: -8, samples: 9 } },
  MinimumMaximum: {
    parties: [same({ minimum: 4, maximum: 17.5 }), same([{ minimum: -12, maximum: 3 }, { minimum: 0.25, maximum: 8 }]), same([{ minimum: 6, maximum: 6 }])],
    result: { maximum: 17.5, minimum: -12, samples: 4 },
  },
  SetIntersection: {
    parties: [wrapped(['Zürich', 'Bern', 'Basel', 'Genf', 'Bern']), wrapped(['Basel', 'Genf', 'Luzern', 'Zürich']), wrapped(['Genf', 'Zürich', 'Chur', 'basel'])],
    result: { intersection: ['Genf', 'Zürich'], size_intersection: 2 },
  },
  SetIntersectionSize: {
    parties: [wrapped(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']), wrapped(['k6', 'k4', 'k2', 'k8']), wrapped(['k4', 'k6', 'k7'])],
    result: { size_intersection: 2 },
  },
  StatisticsUnivariate: { parties: [same([3.0, 1.5, 6.0]), same([2.0, 2.5]), same(4.5)], result: univariate },
  StatisticsBivariate: {
    parties: [same([[1.0, 3.5], [2.0, 4.0]]), same([[4.0, 8.5], [-1.0, -0.5]]), same([[3.0, 5.0]])],
    result: {
      correlation_coefficient: 0.9701036919399703, covariance: 6.025, covariance_mle: 4.82, regression_interceipt: 1.1689189189189197,
      regression_slope: 1.6283783783783776, regression_slope_only: 1.9677419354838708, samples: 5,
    },
  },
  StatisticsFrequency: {
    parties: [same(['cat', 'dog', 'cat']), same(['bird', 'cat', 'dog', 'dog']), same(['fish', 'cat'])],
    result: { histogram: { bird: 1, cat: 4, dog: 3, fish: 1 }, mode: 'cat' },
  },
  StatisticsContingency: {
    parties: [same([['urban', 'yes'], ['rural', 'no'], ['urban', 'yes']]), same([['urban', 'no'], ['suburban', 'yes']]), same([['urban', 'yes'], ['rural', 'yes']])],
    result: { mode: ['urban', 'yes'], table: { rural: { no: 1, yes: 1 }, suburban: { no: 0, yes: 1 }, urban: { no: 1, yes: 3 } } },
  },
  StatisticsContingencyVertical: {
    parties: [
      same([['u01', 'north'], ['u02', 'south'], ['u03', 'north'], ['u04', 'east'], ['u05', 'north'], ['u07', 'south']]),
      same([['u01', 'basic'], ['u02', 'premium'], ['u03', 'premium'], ['u04', 'basic'], ['u05', 'premium'], ['u06', 'basic'], ['u01', 'premium']]),
    ],
    result: { mode: ['north', 'premium'], table: { east: { basic: 1, premium: 0 }, north: { basic: 0, premium: 3 }, south: { basic: 0, premium: 1 } } },
  },
  StatisticsRegressionOLSVertical: { parties: [wrapped(design), wrapped(y)], result: { mle: [[0.07108433734939812], [1.9951807228915666]] } },
};

/** Equal up to 1e-9 relative for numbers; SetIntersection's order is arbitrary (a set). */
function assertResult(actual: unknown, expected: unknown, at: string): void {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', at);
    assert.ok(Math.abs((actual as number) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${at}: ${String(actual)} vs ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), at);
    const sorted = at.endsWith('.intersection');
    const a = sorted ? [...(actual as unknown[])].sort() : (actual as unknown[]);
    const e = sorted ? [...expected].sort() : expected;
    assert.equal(a.length, e.length, at);
    e.forEach((item, i) => assertResult(a[i], item, `${at}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), at);
    for (const [key, value] of Object.entries(expected)) assertResult((actual as Record<string, unknown>)[key], value, `${at}.${key}`);
  } else {
    assert.equal(actual, expected, at);
  }
}

describe('SIMON microprotocols from Python, three real servers', () => {
  let cluster: Cluster;
  const proxies: RecordingProxy[] = [];
  before(async () => {
    cluster = await startCluster(3, { stageTimeoutMs: 20_000 });
    for (const node of cluster.nodes) proxies.push(await startRecordingProxy(node));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await cluster.close();
  });

  test('the table covers all thirteen SIMON names, as the package does', () => {
    assert.equal(Object.keys(CASES).length, 13);
  });

  for (const [name, { parties, result }] of Object.entries(CASES)) {
    test(`${name}: the request each server receives, then ${OFFERED.has(name) ? 'the result' : 'a clear 501'}`, async () => {
      const nodes = cluster.nodes.slice(0, parties.length);
      const uuid = randomUUID();
      const seen = proxies.map((p) => p.requests.length);
      const runs = await Promise.all(
        parties.map((party, myself) =>
          runPython(
            [PARTY, 'statistic', String(myself), nodes.join(','), uuid, JSON.stringify({ url: proxies[myself]!.url, microprotocol: name, args: party.args, kwargs: party.kwargs ?? {} })],
            TIMEOUT_MS,
            '',
            PYTHON_PACKAGE_PATH,
          ),
        ),
      );
      for (const [myself, run] of runs.entries()) {
        assert.equal(run.code, 0, describeRun(`party ${myself}`, run));
        const requests = proxies[myself]!.requests.slice(seen[myself]);
        // create(protocol="Simon"), its member compute, the call: FSC's sequence.
        assert.deepEqual(requests.slice(0, 3).map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, 'U')}`), [
          'POST /representations',
          'GET /representation/U/compute',
          'PATCH /representation/U',
        ]);
        assert.deepEqual(requests[0]!.body, { args: [], kwargs: { protocol: 'Simon' } });
        assert.deepEqual(requests[2]!.body, { args: [], kwargs: { microprotocol: name, data: parties[myself]!.wire, network: { nodes, uuid, myself } } }, `party ${myself}'s request`);
        // Whatever happened, the package releases what it made.
        assert.ok(requests.some((r) => r.method === 'DELETE'), `party ${myself} released its representations`);

        const out = JSON.parse(run.stdout.trim()) as { ok?: unknown; error?: { class: string; status: number; where: string; url: string; message: string } };
        if (OFFERED.has(name)) {
          assert.equal(out.error, undefined, JSON.stringify(out.error));
          assertResult(out.ok, result, `party ${myself} result`);
        } else {
          assert.equal(out.ok, undefined);
          assert.equal(out.error!.class, 'TesseraError');
          assert.equal(out.error!.status, 501);
          assert.equal(out.error!.where, 'kwargs.microprotocol');
          assert.equal(out.error!.url, proxies[myself]!.url);
          assert.match(out.error!.message, new RegExp(`^501 .*${name}`));
        }
      }
    });
  }
});
