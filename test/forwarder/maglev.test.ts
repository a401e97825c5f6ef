import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import {
  buildMaglevTable,
  chooseMaglevSize,
  fnv1a32,
  isPrime,
  MAGLEV_DEFAULT_SIZE,
  MAGLEV_MAX_WEIGHT,
  MAGLEV_NO_BACKEND,
  type MaglevBackend,
  maglevPermutation,
  nextPrime,
} from '../../forwarder/maglev.ts';

const M = MAGLEV_DEFAULT_SIZE;

function backendsOf(weights: readonly number[]): MaglevBackend[] {
  return weights.map((weight, i) => ({ key: `198.18.0.${100 + i}`, weight }));
}

/** Table as backend keys, so tables of differently ordered inputs compare directly. */
function keysOf(table: Int32Array, backends: readonly MaglevBackend[]): string[] {
  return Array.from(table, (i) => (i === MAGLEV_NO_BACKEND ? '' : backends[i].key));
}

function counts(table: Int32Array, n: number): number[] {
  const c = new Array<number>(n).fill(0);
  for (const i of table) c[i]++;
  return c;
}

/** Slots that changed owner between two tables, split into those of `removed` and the rest. */
function disruption(
  before: string[],
  after: string[],
  removed: string,
): { ofRemoved: number; ofOthers: number } {
  let ofRemoved = 0;
  let ofOthers = 0;
  for (let s = 0; s < before.length; s++) {
    if (before[s] === after[s]) continue;
    if (before[s] === removed) ofRemoved++;
    else ofOthers++;
  }
  return { ofRemoved, ofOthers };
}

function assertMaglevInput(t: import('ava').ExecutionContext, fn: () => unknown): void {
  const err = t.throws(fn);
  t.true(isDsrError(err, 'E_MAGLEV_INPUT'), String(err));
}

test('prime helpers: isPrime, nextPrime, chooseMaglevSize', (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5, 9, 25, 49, 65537, 65535, 251, 257].map(isPrime), [
    false,
    false,
    true,
    true,
    false,
    true,
    false,
    false,
    false,
    true,
    false,
    true,
    true,
  ]);
  t.false(isPrime(2.5));
  t.false(isPrime(-7));
  t.is(nextPrime(65536), 65537);
  t.is(nextPrime(0), 2);
  t.is(nextPrime(90), 97);
  t.is(chooseMaglevSize(3), MAGLEV_DEFAULT_SIZE);
  t.is(chooseMaglevSize(1000), nextPrime(100_000));
  assertMaglevInput(t, () => nextPrime(Number.NaN));
});

test('every slot of the default-size table is owned, each backend share is within 1% of its weight share', (t) => {
  const weights = [1, 2, 3, 5, 8, 13, 100];
  const table = buildMaglevTable(backendsOf(weights), M);
  t.is(table.length, M);
  const total = weights.reduce((a, b) => a + b, 0);
  const c = counts(table, weights.length);
  t.is(
    c.reduce((a, b) => a + b, 0),
    M,
  );
  for (const [i, w] of weights.entries()) {
    const want = w / total;
    const got = c[i] / M;
    t.true(Math.abs(got - want) <= 0.01 * want, `backend ${i}: share ${got} vs weight share ${want}`);
  }
});

test('property: at M=65537 each share is within 1% of its weight share (or 2 slots when 1% is less)', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: MAGLEV_MAX_WEIGHT }), { minLength: 1, maxLength: 12 }),
      (weights) => {
        const total = weights.reduce((a, b) => a + b, 0);
        const table = buildMaglevTable(backendsOf(weights), M);
        if (total === 0) return table.every((x) => x === MAGLEV_NO_BACKEND);
        const c = counts(table, weights.length);
        return weights.every((w, i) => {
          const want = (M * w) / total;
          return Math.abs(c[i] - want) <= Math.max(0.01 * want, 2);
        });
      },
    ),
    { numRuns: 60 },
  );
  t.pass();
});

test('weight 0 (drain) backends own no slot; equal weights split the table evenly', (t) => {
  const backends = backendsOf([1, 0, 1, 0, 1]);
  const c = counts(buildMaglevTable(backends, M), backends.length);
  t.is(c[1], 0);
  t.is(c[3], 0);
  for (const i of [0, 2, 4]) t.true(Math.abs(c[i] - M / 3) <= 2, `backend ${i}: ${c[i]} slots`);
});

test('all weights 0 (or no backends) gives a table of -1 in every slot', (t) => {
  for (const table of [buildMaglevTable(backendsOf([0, 0, 0]), 251), buildMaglevTable([], 251)]) {
    t.is(table.length, 251);
    t.true(table.every((x) => x === MAGLEV_NO_BACKEND));
  }
});

test('a single backend owns every slot, whatever its weight', (t) => {
  for (const weight of [1, 7, MAGLEV_MAX_WEIGHT]) {
    const table = buildMaglevTable([{ key: 'only', weight }], M);
    t.true(table.every((x) => x === 0));
  }
});

test('indices refer to the input array, not to the sorted order', (t) => {
  const backends = [
    { key: 'zz', weight: 1 },
    { key: 'aa', weight: 0 },
    { key: 'mm', weight: 3 },
  ];
  const c = counts(buildMaglevTable(backends, 257), 3);
  t.is(c[1], 0);
  t.true(c[2] > c[0] * 2.5 && c[2] < c[0] * 3.5, `mm ${c[2]} zz ${c[0]}`);
});

test('the same backends in any order give the same table (property)', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 10, maxLength: 10 }),
      fc.array(fc.double({ noNaN: true }), { minLength: 10, maxLength: 10 }),
      (keys, weights, order) => {
        const backends = keys.map((key, i) => ({ key, weight: weights[i] }));
        const shuffled = backends
          .map((b, i) => ({ b, r: order[i] }))
          .sort((x, y) => x.r - y.r)
          .map((x) => x.b);
        const a = keysOf(buildMaglevTable(backends, 1009), backends);
        const b = keysOf(buildMaglevTable(shuffled, 1009), shuffled);
        return a.every((k, s) => k === b[s]);
      },
    ),
    { numRuns: 100 },
  );
  t.pass();
});

test('the table is a pure function of its input, pinned by golden values (FNV-1a + murmur3 fmix32)', (t) => {
  const backends = backendsOf([3, 1, 2]);
  t.deepEqual(buildMaglevTable(backends, M), buildMaglevTable(backends, M));
  // FNV-1a reference vectors (draft-eastlake-fnv): "a" and "foobar".
  t.is(fnv1a32(new TextEncoder().encode('a')), 0xe40c292c);
  t.is(fnv1a32(new TextEncoder().encode('foobar')), 0xbf9cf968);
  // Pinned so that directors of different versions (or a port of this code) build the same table:
  // changing the hash or the turn order reshuffles every flow on a rolling upgrade.
  t.deepEqual(maglevPermutation('198.18.0.100', M), { offset: 35187, skip: 35854 });
  t.deepEqual(maglevPermutation('198.18.0.101', M), { offset: 41759, skip: 56307 });
  const small = [
    { key: 'a', weight: 1 },
    { key: 'b', weight: 2 },
    { key: 'c', weight: 1 },
  ];
  t.deepEqual(Array.from(buildMaglevTable(small, 13)), [1, 0, 2, 2, 0, 1, 1, 2, 1, 1, 1, 0, 1]);
});

// Measured here at M=65537 with equal weights: removing any one of N backends moves all of its
// ~M/N slots and at most 0.26% (N=10), 0.37% (N=20), 0.51% (N=50) of the table that belonged to others.
for (const n of [3, 5, 10, 20]) {
  test(`removing one of ${n} equal backends moves its 1/${n} of slots plus at most 0.5% of the table owned by others`, (t) => {
    const backends = backendsOf(new Array(n).fill(1));
    const before = keysOf(buildMaglevTable(backends, M), backends);
    for (let r = 0; r < n; r++) {
      const rest = backends.filter((_, i) => i !== r);
      const after = keysOf(buildMaglevTable(rest, M), rest);
      const d = disruption(before, after, backends[r].key);
      const owned = before.filter((k) => k === backends[r].key).length;
      t.is(d.ofRemoved, owned, 'every slot of the removed backend moves');
      t.true(d.ofOthers / M <= 0.005, `removing #${r}: ${d.ofOthers} slots of other backends moved`);
      t.true((d.ofRemoved + d.ofOthers) / M <= 1 / n + 0.005);
    }
  });
}

test('property: removing or draining one weighted backend moves at most 1% of the table owned by others', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 16 }),
      fc.nat(),
      fc.boolean(),
      (weights, pick, drain) => {
        const r = pick % weights.length;
        const backends = backendsOf(weights);
        const before = keysOf(buildMaglevTable(backends, M), backends);
        const rest = drain
          ? backends.map((b, i) => (i === r ? { key: b.key, weight: 0 } : b))
          : backends.filter((_, i) => i !== r);
        const after = keysOf(buildMaglevTable(rest, M), rest);
        const d = disruption(before, after, backends[r].key);
        return d.ofOthers / M <= 0.01 && after.every((k) => k !== backends[r].key);
      },
    ),
    { numRuns: 40 },
  );
  t.pass();
});

test('bad input is refused with E_MAGLEV_INPUT', (t) => {
  const ok = backendsOf([1, 1]);
  for (const size of [0, 1, 4, 65536, 65537.5, Number.NaN, -7, 16_777_259]) {
    assertMaglevInput(t, () => buildMaglevTable(ok, size));
  }
  assertMaglevInput(t, () => buildMaglevTable([{ key: '', weight: 1 }], 7));
  assertMaglevInput(t, () =>
    buildMaglevTable(
      [
        { key: 'a', weight: 1 },
        { key: 'a', weight: 2 },
      ],
      7,
    ),
  );
  for (const weight of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAGLEV_MAX_WEIGHT + 1]) {
    assertMaglevInput(t, () => buildMaglevTable([{ key: 'a', weight }], 7));
  }
  assertMaglevInput(t, () => buildMaglevTable(backendsOf([1, 1, 1, 1]), 3));
});
