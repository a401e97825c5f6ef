/**
 * The version of operator state the directors share whole (drains and weight overrides): a
 * last-writer-wins register. Every director keeps the state with the highest (stamp, origin) it
 * has made or heard; an operator's change on any director makes a version higher than any that
 * director has seen, so the latest change wins everywhere and a director that starts with nothing
 * (stamp 0) takes its peers' state at the first resend.
 *
 * Stamps are wall-clock ms, but never lower than one above the highest stamp seen: a director
 * whose clock is behind still makes a newer version (a hybrid logical clock). Ties between two
 * changes with the same stamp fall to the higher origin node id, the same on every director.
 *
 * Limit: whole-state replacement, not a merge. Two changes made on different directors within one
 * resend interval, while neither has heard the other's, keep only the later one; so does a change
 * made on a director that restarted and has not yet heard its peers (within a second of start).
 */
export interface StateVersion {
  /** 0: no state made or heard yet. */
  stamp: number;
  /** Node id of the director where the change was made. */
  origin: number;
}

export function newerThan(a: StateVersion, b: StateVersion): boolean {
  return a.stamp > b.stamp || (a.stamp === b.stamp && a.origin > b.origin);
}

export class SharedStateVersion {
  readonly #self: number;
  #version: StateVersion = { stamp: 0, origin: 0 };

  constructor(selfNodeId: number) {
    this.#self = selfNodeId;
  }

  get current(): StateVersion {
    return { ...this.#version };
  }

  /** An operator changed the state here, at wall-clock `nowMs`: the new version to share. */
  localChange(nowMs: number): StateVersion {
    this.#version = { stamp: Math.max(Math.floor(nowMs), this.#version.stamp + 1), origin: this.#self };
    return this.current;
  }

  /** Whether a peer's version should replace ours (call adopt() once its state is applied). */
  wants(v: StateVersion): boolean {
    return newerThan(v, this.#version);
  }

  adopt(v: StateVersion): void {
    if (newerThan(v, this.#version)) this.#version = { ...v };
  }
}
