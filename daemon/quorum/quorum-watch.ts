/**
 * Whether this voter is on a majority's side (views.ts hasQuorum), as alert events (`quorum_lost`,
 * `quorum_regained`): checked once per election timeout, lost after two checks in a row without
 * (one missed heartbeat round is no outage), regained at the first check with. Pure: the caller
 * passes the time, the verdict and the voters it heard within the timeout.
 */
export type QuorumEvent =
  | { readonly type: 'quorum_lost'; readonly voters: string[]; readonly reachable: string[] }
  | { readonly type: 'quorum_regained'; readonly reachable: string[]; readonly downSeconds: number };

export class QuorumWatch {
  readonly #voters: readonly string[];
  #misses = 0;
  #lostAt: number | null = null;

  constructor(voters: readonly string[]) {
    this.#voters = voters;
  }

  get lost(): boolean {
    return this.#lostAt !== null;
  }

  /** `reachable`: the voters heard within one election timeout, this one included. */
  observe(nowMs: number, quorum: boolean, reachable: readonly string[]): QuorumEvent | null {
    const heard = [...reachable];
    if (quorum) {
      this.#misses = 0;
      if (this.#lostAt === null) return null;
      const downSeconds = Math.round((nowMs - this.#lostAt) / 100) / 10;
      this.#lostAt = null;
      return { type: 'quorum_regained', reachable: heard, downSeconds };
    }
    this.#misses += 1;
    if (this.#misses < 2 || this.#lostAt !== null) return null;
    this.#lostAt = nowMs;
    return { type: 'quorum_lost', voters: [...this.#voters], reachable: heard };
  }
}
