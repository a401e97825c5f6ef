/**
 * The sender's side of replay protection: a session id per process start and a sequence number
 * per message. See core/auth/README.md for the whole design; in short:
 *
 * - A session id is 64 bits: the sender's wall clock in ms when the session started (upper 48 bits)
 *   and 16 random bits. Receivers accept a session id greater than the one they hold for that peer
 *   (the peer restarted) and reject a smaller one (a replay from an older run). Only the sender's
 *   own clock is compared with itself, across its own restarts; clocks of different directors are
 *   never compared for this (the same rule as WireGuard's handshake timestamp).
 * - If the daemon keeps the last session id in its state directory and passes it back, the new id
 *   is made strictly greater even when the wall clock went backwards across the restart.
 * - Sequence numbers start at 1 and grow by one per message, 64 bits: at a million messages a
 *   second they last 580,000 years, and the sender refuses to wrap (it would start a new session).
 * - The timestamp on each message is the session's start wall time plus the monotonic time since,
 *   so a wall-clock step during the run (NTP, an operator) does not move it.
 */
import { DsrError } from '../errors.ts';

const U64_MAX = (1n << 64n) - 1n;
/** Wall-clock milliseconds must fit the upper 48 bits of the session id (good until year 10889). */
const MAX_WALL_MS = 2 ** 48 - 1;

/**
 * A session id greater than `previous` (when given), built from the wall clock and 16 random bits.
 * @param wallMs   Date.now() at process start
 * @param random16 an integer 0..65535 from a CSPRNG (crypto.randomInt) — injected for tests
 */
export function newSessionId(wallMs: number, random16: number, previous?: bigint): bigint {
  if (!Number.isInteger(wallMs) || wallMs < 0 || wallMs > MAX_WALL_MS) {
    throw new DsrError('E_AUTH_KEY', 'session wall time must be a non-negative integer of ms', { wallMs });
  }
  if (!Number.isInteger(random16) || random16 < 0 || random16 > 0xffff) {
    throw new DsrError('E_AUTH_KEY', 'session random part must be an integer 0..65535', { random16 });
  }
  const id = (BigInt(wallMs) << 16n) | BigInt(random16);
  if (previous !== undefined && id <= previous) {
    if (previous >= U64_MAX) throw new DsrError('E_AUTH_KEY', 'session id space exhausted', {});
    return previous + 1n;
  }
  return id;
}

export interface SendStamp {
  readonly session: bigint;
  readonly seq: bigint;
  readonly timestampMs: number;
}

/**
 * Where a session's sequence numbers live: cell `index` of a BigInt64Array, which may sit in a
 * SharedArrayBuffer so that two threads sending as one sender (the election thread and its advert
 * keeper) draw from one sequence. Atomics make each draw unique.
 */
export interface SequenceCell {
  readonly array: BigInt64Array;
  readonly index: number;
}

/** Signed 64-bit cells: a session refuses to go past 2^63 - 1 (292 million years at 1 MHz). */
const CELL_MAX = (1n << 63n) - 1n;

/** Hands out (session, seq, timestamp) for each message a process sends on one stream. */
export class SenderSession {
  readonly id: bigint;
  readonly #startWallMs: number;
  readonly #startMonoMs: number;
  readonly #seq: SequenceCell;

  /**
   * @param id          from newSessionId
   * @param startWallMs wall clock (ms) at session start
   * @param startMonoMs monotonic clock (ms) at the same moment
   * @param sequence    a cell shared with another sender of the same session (default: our own)
   */
  constructor(id: bigint, startWallMs: number, startMonoMs: number, sequence?: SequenceCell) {
    if (id <= 0n || id > U64_MAX) throw new DsrError('E_AUTH_KEY', 'session id must be a non-zero u64', {});
    this.id = id;
    this.#startWallMs = startWallMs;
    this.#startMonoMs = startMonoMs;
    this.#seq = sequence ?? { array: new BigInt64Array(1), index: 0 };
  }

  /** The wall and monotonic start, to hand the same session to another thread. */
  get start(): { readonly wallMs: number; readonly monoMs: number } {
    return { wallMs: this.#startWallMs, monoMs: this.#startMonoMs };
  }

  /** Last sequence number handed out (0 before the first message). */
  get lastSeq(): bigint {
    return Atomics.load(this.#seq.array, this.#seq.index);
  }

  next(monoNowMs: number): SendStamp {
    const { array, index } = this.#seq;
    const seq = Atomics.add(array, index, 1n) + 1n;
    if (seq <= 0n || seq > CELL_MAX - 1n) {
      Atomics.store(array, index, CELL_MAX);
      throw new DsrError('E_AUTH_KEY', 'sequence numbers exhausted: start a new session', {});
    }
    return { session: this.id, seq, timestampMs: this.timestampAt(monoNowMs) };
  }

  /** Session-relative wall time: immune to wall-clock steps after the session started. */
  timestampAt(monoNowMs: number): number {
    return Math.max(0, Math.round(this.#startWallMs + (monoNowMs - this.#startMonoMs)));
  }
}
