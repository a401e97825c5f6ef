/**
 * The kernel neighbour table (ARP for IPv4, ND for IPv6), where the forwarder learns real-server
 * MACs: the narrow interface and its rtnetlink implementation. Fake: fake-neighbour-table.ts.
 *
 * How a real server's MAC gets resolved, and kept fresh: `resolve` makes the entry a kernel-managed
 * one (NTF_EXT_MANAGED, Linux 5.16+). The kernel then sends the ARP request / neighbour
 * solicitation itself, at once, and re-probes the entry before it would go stale, for as long as
 * the entry exists; `release` deletes it when the real server leaves the config. Chosen over
 * sending our own ARP requests (a second resolver beside the kernel's, with its own timers) and
 * over poking the entry with NTF_USE or a UDP packet (one-shot: the entry still ages to STALE and
 * is only re-verified when traffic from this host uses it, which XDP-forwarded traffic never does).
 * For IPv6 the kernel solicits from the interface's link-local address, so it needs one that has
 * finished DAD.
 */
import { isDsrError } from '../errors.ts';
import type { IpFamily } from '../net/ip.ts';
import { RTM_DELNEIGH, RTM_NEWNEIGH, RTNLGRP_NEIGH } from './constants.ts';
import type { NetlinkMessage } from './message.ts';
import {
  decodeNeighbour,
  encodeNeighbourDelete,
  encodeNeighbourDump,
  encodeNeighbourGet,
  encodeNeighbourManaged,
  type NeighbourMessage,
} from './neigh-codec.ts';
import { NetlinkSocket } from './socket.ts';

export type NeighbourEntry = NeighbourMessage;

export type NeighbourEvent =
  | { kind: 'update'; entry: NeighbourEntry }
  | { kind: 'delete'; entry: NeighbourEntry }
  /** Notifications were lost (receive queue overflow): re-read with `list`. */
  | { kind: 'resync' };

export type NeighbourListener = (event: NeighbourEvent) => void;

export interface NeighbourTable {
  /** All IPv4 and IPv6 entries (or one family's). */
  list(family?: IpFamily): Promise<NeighbourEntry[]>;
  /** One entry, or undefined when the kernel has none for that address on that interface. */
  lookup(ifindex: number, address: string): Promise<NeighbourEntry | undefined>;
  subscribe(listener: NeighbourListener): () => void;
  /** Asks the kernel to resolve the address and keep it resolved (see the header comment). */
  resolve(ifindex: number, address: string): Promise<void>;
  /** Drops the entry `resolve` created; no error if there is none. */
  release(ifindex: number, address: string): Promise<void>;
  close(): void;
}

const ENOENT = 2;

export class RtnlNeighbourTable implements NeighbourTable {
  readonly #requests: NetlinkSocket;
  readonly #events: NetlinkSocket;
  readonly #listeners = new Set<NeighbourListener>();
  droppedNotifications = 0;

  /** Opens its sockets at once, in the calling thread's network namespace. */
  constructor() {
    this.#requests = new NetlinkSocket();
    this.#events = new NetlinkSocket({ groups: [RTNLGRP_NEIGH], receiveBufferBytes: 4 << 20 });
    this.#events.onNotification((msg) => this.#onMessage(msg));
    this.#events.onOverrun(() => {
      for (const l of this.#listeners) l({ kind: 'resync' });
    });
  }

  async list(family?: IpFamily): Promise<NeighbourEntry[]> {
    const families: IpFamily[] = family === undefined ? [4, 6] : [family];
    const out: NeighbourEntry[] = [];
    for (const f of families) {
      for (const msg of await this.#requests.request(encodeNeighbourDump(f))) {
        if (msg.type !== RTM_NEWNEIGH) continue;
        const e = decodeNeighbour(msg.payload);
        if (e !== undefined) out.push(e);
      }
    }
    return out;
  }

  async lookup(ifindex: number, address: string): Promise<NeighbourEntry | undefined> {
    try {
      const replies = await this.#requests.request(encodeNeighbourGet(ifindex, address));
      const msg = replies.find((m) => m.type === RTM_NEWNEIGH);
      return msg === undefined ? undefined : decodeNeighbour(msg.payload);
    } catch (err) {
      if (isDsrError(err, 'E_NETLINK') && err.context.errno === ENOENT) return undefined;
      throw err;
    }
  }

  subscribe(listener: NeighbourListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async resolve(ifindex: number, address: string): Promise<void> {
    await this.#requests.request(encodeNeighbourManaged(ifindex, address));
  }

  async release(ifindex: number, address: string): Promise<void> {
    try {
      await this.#requests.request(encodeNeighbourDelete(ifindex, address));
    } catch (err) {
      if (isDsrError(err, 'E_NETLINK') && err.context.errno === ENOENT) return;
      throw err;
    }
  }

  #onMessage(msg: NetlinkMessage): void {
    if (msg.type !== RTM_NEWNEIGH && msg.type !== RTM_DELNEIGH) return;
    let entry: NeighbourEntry | undefined;
    try {
      entry = decodeNeighbour(msg.payload);
    } catch {
      this.droppedNotifications++;
      return;
    }
    if (entry === undefined) return; // bridge FDB and other families
    const event: NeighbourEvent =
      msg.type === RTM_NEWNEIGH ? { kind: 'update', entry } : { kind: 'delete', entry };
    for (const l of this.#listeners) l(event);
  }

  close(): void {
    this.#listeners.clear();
    this.#requests.close();
    this.#events.close();
  }
}
