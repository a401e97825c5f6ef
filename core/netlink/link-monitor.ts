/**
 * Link state (for the election's "interface link down" tracked condition, and the interface MAC
 * the announcements carry): the narrow interface and its rtnetlink implementation, which reads
 * RTM_GETLINK and follows RTNLGRP_LINK notifications. Fake: fake-link-monitor.ts.
 *
 * Listeners get a LinkState only when something they could act on changed (presence, up/carrier,
 * operational state, name, MAC, MTU): the kernel sends RTM_NEWLINK for much more than that.
 */
import { isDsrError } from '../errors.ts';
import { RTM_DELLINK, RTM_NEWLINK, RTNLGRP_LINK } from './constants.ts';
import { decodeLink, encodeLinkDump, encodeLinkGet, type LinkMessage } from './link-codec.ts';
import type { NetlinkMessage } from './message.ts';
import { NetlinkSocket } from './socket.ts';

export interface LinkState {
  ifindex: number;
  name: string;
  mac?: string;
  mtu?: number;
  adminUp: boolean;
  lowerUp: boolean;
  operState: string;
  /** False once the interface was deleted. */
  present: boolean;
}

/** The interface can carry traffic: it exists, is up and has carrier. */
export function linkUsable(s: LinkState | undefined): boolean {
  return s?.present === true && s.adminUp && s.lowerUp && s.operState !== 'down';
}

export type LinkListener = (state: LinkState) => void;

export interface LinkMonitor {
  get(ifindex: number): Promise<LinkState | undefined>;
  /** Calls `listener` on every change of any link; returns the function that unsubscribes. */
  subscribe(listener: LinkListener): () => void;
  close(): void;
}

const ENODEV = 19;

export function linkStateOf(m: LinkMessage, present: boolean): LinkState {
  const s: LinkState = {
    ifindex: m.ifindex,
    name: m.name ?? `if${m.ifindex}`,
    adminUp: m.adminUp,
    lowerUp: m.lowerUp,
    operState: m.operState ?? 'unknown',
    present,
  };
  if (m.mac !== undefined) s.mac = m.mac;
  if (m.mtu !== undefined) s.mtu = m.mtu;
  return s;
}

function sameState(a: LinkState, b: LinkState): boolean {
  return (
    a.present === b.present &&
    a.adminUp === b.adminUp &&
    a.lowerUp === b.lowerUp &&
    a.operState === b.operState &&
    a.name === b.name &&
    a.mac === b.mac &&
    a.mtu === b.mtu
  );
}

export class RtnlLinkMonitor implements LinkMonitor {
  readonly #requests: NetlinkSocket;
  readonly #events: NetlinkSocket;
  readonly #listeners = new Set<LinkListener>();
  readonly #last = new Map<number, LinkState>();
  /** Decode failures of notifications (counted, never thrown). */
  droppedNotifications = 0;

  /** Opens its sockets at once, in the calling thread's network namespace. */
  constructor() {
    this.#requests = new NetlinkSocket();
    this.#events = new NetlinkSocket({ groups: [RTNLGRP_LINK], receiveBufferBytes: 1 << 20 });
    this.#events.onNotification((msg) => this.#onMessage(msg));
    this.#events.onOverrun(() => void this.#resync());
  }

  async get(ifindex: number): Promise<LinkState | undefined> {
    try {
      const replies = await this.#requests.request(encodeLinkGet(ifindex));
      const msg = replies.find((m) => m.type === RTM_NEWLINK);
      return msg === undefined ? undefined : linkStateOf(decodeLink(msg.payload), true);
    } catch (err) {
      if (isDsrError(err, 'E_NETLINK') && err.context.errno === ENODEV) return undefined;
      throw err;
    }
  }

  subscribe(listener: LinkListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #onMessage(msg: NetlinkMessage): void {
    if (msg.type !== RTM_NEWLINK && msg.type !== RTM_DELLINK) return;
    let state: LinkState;
    try {
      state = linkStateOf(decodeLink(msg.payload), msg.type === RTM_NEWLINK);
    } catch {
      this.droppedNotifications++;
      return;
    }
    this.#emit(state);
  }

  #emit(state: LinkState): void {
    const last = this.#last.get(state.ifindex);
    if (last !== undefined && sameState(last, state)) return;
    if (state.present) this.#last.set(state.ifindex, state);
    else this.#last.delete(state.ifindex);
    for (const l of this.#listeners) l(state);
  }

  /** After lost notifications: re-read every link and report what changed, deletions included. */
  async #resync(): Promise<void> {
    let replies: NetlinkMessage[];
    try {
      replies = await this.#events.request(encodeLinkDump());
    } catch {
      return; // The next overrun or notification tries again; nothing better to do here.
    }
    const seen = new Set<number>();
    for (const msg of replies) {
      if (msg.type !== RTM_NEWLINK) continue;
      try {
        const state = linkStateOf(decodeLink(msg.payload), true);
        seen.add(state.ifindex);
        this.#emit(state);
      } catch {
        this.droppedNotifications++;
      }
    }
    for (const [ifindex, last] of [...this.#last]) {
      if (!seen.has(ifindex)) this.#emit({ ...last, present: false });
    }
  }

  close(): void {
    this.#listeners.clear();
    this.#requests.close();
    this.#events.close();
  }
}
