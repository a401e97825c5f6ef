/**
 * Weighted Maglev lookup table (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016, §3.4, Pseudocode 1).
 *
 * Pure: no I/O, no clock, no randomness. Every director that builds the table
 * from the same backends (in any order) gets the same table, so a new flow
 * lands on the same real server whichever director receives it.
 *
 * How weights work: the paper fills the table in rounds where every backend
 * claims its next preferred free slot in turn. Here a backend earns `weight`
 * credit per round and takes a turn each time its credit reaches the largest
 * weight (a smooth weighted round-robin, like Cilium's and Katran's weighted
 * population). The heaviest backend takes one turn every round, a backend of
 * half that weight every other round, and weight 0 never takes a turn (drain:
 * no new flows; existing flows stay in the connection table). Because every
 * turn claims exactly one slot, each backend's share of the table follows its
 * share of the weight to within a slot or two per backend.
 *
 * Preference lists: backend i prefers slots offset, offset+skip, offset+2skip,
 * ... (mod M), with offset = h1(key) mod M and skip = h2(key) mod (M-1) + 1.
 * M prime makes every skip coprime with M, so each list is a permutation of
 * all M slots and a turn always finds a free slot.
 */
import { DsrError } from '../core/errors.ts';

export interface MaglevBackend {
  /** Stable identity of the backend (e.g. "198.18.0.100" or a name); must be unique. */
  readonly key: string;
  /** Relative weight, an integer 0..MAGLEV_MAX_WEIGHT; 0 = drain (no new flows). */
  readonly weight: number;
}

/** Default table size, the paper's and Katran's: prime, ~100x a few hundred backends. */
export const MAGLEV_DEFAULT_SIZE = 65537;
/** Largest accepted table size (64 MiB as Int32Array); bigger is a config mistake. */
export const MAGLEV_MAX_SIZE = 16_777_216;
/** Weights are IPVS-like integers; larger ratios than 65535:1 are not meaningful here. */
export const MAGLEV_MAX_WEIGHT = 65535;

/** Slot value of a table in which no backend can take new flows. */
export const MAGLEV_NO_BACKEND = -1;

/** Deterministic primality test by trial division (sizes are at most 2^24, so <= 2048 divisions). */
export function isPrime(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  if (n % 3 === 0) return n === 3;
  for (let d = 5; d * d <= n; d += 6) {
    if (n % d === 0 || n % (d + 2) === 0) return false;
  }
  return true;
}

/** Smallest prime >= n (n >= 2), for choosing a table size. */
export function nextPrime(n: number): number {
  if (!Number.isSafeInteger(n) || n > MAGLEV_MAX_SIZE) {
    throw new DsrError(
      'E_MAGLEV_INPUT',
      `cannot choose a prime size from ${n}: give an integer <= ${MAGLEV_MAX_SIZE}`,
      {
        n,
      },
    );
  }
  let p = Math.max(2, n);
  while (!isPrime(p)) p++;
  return p;
}

/**
 * A table size for `backendCount` backends: the default, or the smallest prime
 * that keeps M >= 100 N (the paper's rule of thumb for small disruption, §5.3).
 */
export function chooseMaglevSize(backendCount: number): number {
  return Math.max(MAGLEV_DEFAULT_SIZE, nextPrime(Math.max(2, backendCount * 100)));
}

const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5;
/** Second offset basis, for a hash independent of the first (any odd 32-bit constant works). */
const FNV_OFFSET_SKIP = 0x9e3779b9;

/** murmur3's 32-bit finaliser: spreads FNV's weak low bits over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * FNV-1a (32-bit) over the UTF-8 bytes of `key`, started from `basis`, then
 * murmur3's finaliser. Two bases give the two independent hashes the paper
 * asks for (offset and skip). Exported so tests and tools can reproduce a
 * backend's preference list.
 */
export function maglevKeyHash(key: string, basis: number): number {
  return fmix32(fnv1a32(new TextEncoder().encode(key), basis));
}

/** FNV-1a, 32-bit, from `basis` (FNV's own offset basis by default). */
export function fnv1a32(bytes: Uint8Array, basis: number = FNV_OFFSET): number {
  let h = basis >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Offset and skip of a backend's preference list in a table of `size` slots. */
export function maglevPermutation(key: string, size: number): { offset: number; skip: number } {
  return {
    offset: maglevKeyHash(key, FNV_OFFSET) % size,
    skip: (maglevKeyHash(key, FNV_OFFSET_SKIP) % (size - 1)) + 1,
  };
}

function validate(backends: readonly MaglevBackend[], size: number): void {
  if (!Number.isSafeInteger(size) || !isPrime(size) || size > MAGLEV_MAX_SIZE) {
    throw new DsrError(
      'E_MAGLEV_INPUT',
      `table size ${size} is not a prime <= ${MAGLEV_MAX_SIZE}: use ${MAGLEV_DEFAULT_SIZE} or nextPrime()`,
      { size },
    );
  }
  const seen = new Set<string>();
  for (const [index, b] of backends.entries()) {
    if (typeof b?.key !== 'string' || b.key.length === 0) {
      throw new DsrError(
        'E_MAGLEV_INPUT',
        `backend #${index} has no key: give every backend a non-empty key`,
        {
          index,
        },
      );
    }
    if (seen.has(b.key)) {
      throw new DsrError(
        'E_MAGLEV_INPUT',
        `backend key ${JSON.stringify(b.key)} appears twice: keys must be unique`,
        {
          index,
          key: b.key,
        },
      );
    }
    seen.add(b.key);
    if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAGLEV_MAX_WEIGHT) {
      throw new DsrError(
        'E_MAGLEV_INPUT',
        `backend ${JSON.stringify(b.key)} has weight ${b.weight}: use an integer 0..${MAGLEV_MAX_WEIGHT}`,
        { index, key: b.key, weight: b.weight },
      );
    }
  }
  const active = backends.filter((b) => b.weight > 0).length;
  if (active > size) {
    throw new DsrError(
      'E_MAGLEV_INPUT',
      `${active} backends do not fit a table of ${size} slots: use a size of at least 100x the backend count`,
      { size, active },
    );
  }
}

/**
 * Builds the lookup table: `size` slots, each the index into `backends` of the
 * backend that owns it, or MAGLEV_NO_BACKEND in every slot when no backend has
 * weight > 0. Throws DsrError E_MAGLEV_INPUT on a non-prime size, empty or
 * duplicate keys, or weights that are not integers 0..MAGLEV_MAX_WEIGHT.
 */
export function buildMaglevTable(
  backends: readonly MaglevBackend[],
  size: number = MAGLEV_DEFAULT_SIZE,
): Int32Array {
  validate(backends, size);
  const table = new Int32Array(size).fill(MAGLEV_NO_BACKEND);

  // Turn order must not depend on input order: sort by key (code-unit order, locale-free).
  const active = backends
    .map((b, index) => ({ index, key: b.key, weight: b.weight }))
    .filter((b) => b.weight > 0)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const n = active.length;
  if (n === 0) return table;

  const owner = new Int32Array(n);
  const weight = new Float64Array(n);
  const pos = new Float64Array(n); // next preferred slot of each backend
  const skip = new Float64Array(n);
  const credit = new Float64Array(n);
  let maxWeight = 0;
  for (let i = 0; i < n; i++) {
    const p = maglevPermutation(active[i].key, size);
    owner[i] = active[i].index;
    weight[i] = active[i].weight;
    pos[i] = p.offset;
    skip[i] = p.skip;
    maxWeight = Math.max(maxWeight, active[i].weight);
  }

  let filled = 0;
  while (true) {
    for (let i = 0; i < n; i++) {
      credit[i] += weight[i];
      if (credit[i] < maxWeight) continue;
      credit[i] -= maxWeight;
      // Walk the preference list to the first free slot; it exists since filled < size.
      let slot = pos[i];
      while (table[slot] !== MAGLEV_NO_BACKEND) {
        slot += skip[i];
        if (slot >= size) slot -= size;
      }
      table[slot] = owner[i];
      slot += skip[i];
      pos[i] = slot >= size ? slot - size : slot;
      if (++filled === size) return table;
    }
  }
}
