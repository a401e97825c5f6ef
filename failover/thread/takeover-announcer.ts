/**
 * The first round of a takeover's announcement, sent by the election thread in the same turn as
 * it decides (become-master), before the output reaches the main thread.
 *
 * Why here: the main thread's takeover (VIP add over netlink, then its own burst) starts after the
 * hop to the main thread and a netlink round trip (measured in docs/failover.md, "The takeover
 * path"), and every ms of that is outage for the clients. The forwarder serves the VIPs whether or not
 * they are on the interface, so clients that follow this announcement are served at once; the
 * main thread adds the VIPs and runs the burst and refresh as before (its first round repeats this
 * one, which also rides out a lost frame).
 *
 * The targets are the VIP part's as the election part started (interfaces and MACs learnt at
 * start-up); a MAC changed since is corrected by the main thread's round right after.
 */
import {
  type AnnounceResult,
  type Announcer,
  type AnnounceTarget,
  addAnnounceResult,
  type PreparedRound,
} from '../vip/announcer.ts';

export class TakeoverAnnouncer {
  readonly #announcer: Announcer;
  /** Each group's round, its frames built at start: at a takeover only the sends remain. */
  readonly #rounds = new Map<number, PreparedRound[]>();

  constructor(announcer: Announcer, targets: Readonly<Record<number, readonly AnnounceTarget[]>>) {
    this.#announcer = announcer;
    for (const [id, list] of Object.entries(targets)) {
      if (list.length === 0) continue;
      this.#rounds.set(
        Number(id),
        list.map((t) => announcer.prepare(t.ifindex, t.mac, t.addresses)),
      );
    }
  }

  /** Sends group `groupId`'s round; undefined when the group has nothing to announce. */
  announce(groupId: number): AnnounceResult | undefined {
    const rounds = this.#rounds.get(groupId);
    if (rounds === undefined) return undefined;
    const total: AnnounceResult = { sent: 0, failed: 0 };
    for (const send of rounds) addAnnounceResult(total, send());
    return total;
  }

  close(): void {
    this.#announcer.close();
  }
}
