/** In-memory Announcer for unit tests: records each round and the frames it would have sent. */
import type { AnnounceResult, Announcer, PreparedRound } from './announcer.ts';
import { roundFrames } from './announcer.ts';
import type { ArpForm } from './frames.ts';

export interface FakeRound {
  ifindex: number;
  mac: string;
  addresses: string[];
  frames: Buffer[];
}

export class FakeAnnouncer implements Announcer {
  readonly rounds: FakeRound[] = [];
  readonly #forms: readonly ArpForm[];
  /** When set, every frame of the next rounds fails with this errno name (e.g. "ENETDOWN"). */
  failWith: string | undefined;
  closed = false;

  constructor(arpForms: readonly ArpForm[] = ['request', 'reply']) {
    this.#forms = arpForms;
  }

  announce(ifindex: number, mac: string, addresses: readonly string[]): AnnounceResult {
    const frames = roundFrames(mac, addresses, this.#forms);
    this.rounds.push({ ifindex, mac, addresses: [...addresses], frames });
    if (this.failWith !== undefined) return { sent: 0, failed: frames.length, lastError: this.failWith };
    return { sent: frames.length, failed: 0 };
  }

  /** Records the round when it is sent, not when it is prepared. */
  prepare(ifindex: number, mac: string, addresses: readonly string[]): PreparedRound {
    const copy = [...addresses];
    return () => this.announce(ifindex, mac, copy);
  }

  close(): void {
    this.closed = true;
  }
}
