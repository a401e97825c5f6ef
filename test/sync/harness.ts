/**
 * Two directors' sync endpoints over a simulated network with a seeded clock:
 * A sends its table to B. Datagrams are really encoded, authenticated and
 * decoded (SyncCodec), so forged and replayed datagrams can be injected.
 */
import { Keyring } from '../../core/auth/keyring.ts';
import { ReplayGuard } from '../../core/auth/replay-guard.ts';
import { newSessionId, SenderSession } from '../../core/auth/session.ts';
import type { SyncEntry } from '../../sync/entries.ts';
import { type SyncOptions, syncOptions } from '../../sync/options.ts';
import { SyncReceiver } from '../../sync/receiver.ts';
import { SyncSender } from '../../sync/sender.ts';
import { SyncApplier } from '../../sync/table.ts';
import { SyncCodec, type SyncDropReason } from '../../sync/wire.ts';
import { MemoryTables } from './memory-tables.ts';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SECRET = new Uint8Array(32).fill(7);
const WALL0 = 1_800_000_000_000;

export interface NetFaults {
  loss: number;
  dup: number;
  /** Max extra delay in ms (uniform), which reorders. */
  jitterMs: number;
}

export class Endpoint {
  readonly id: number;
  /**
   * Which VIPs this director masters: for them its own table is authoritative and it takes no
   * entries from its peer. `active` masters every VIP.
   */
  owns: (vip: Uint8Array) => boolean = () => false;
  codec!: SyncCodec;
  sender!: SyncSender;
  receiver!: SyncReceiver;
  readonly store: MemoryTables;
  readonly applier: SyncApplier;
  readonly drops = new Map<SyncDropReason, number>();
  private readonly opts: SyncOptions;
  private readonly guard = new ReplayGuard({ maxClockSkewMs: Number.POSITIVE_INFINITY });
  private restarts = 0;

  constructor(id: number, now: number, opts: SyncOptions, chunk?: number) {
    this.id = id;
    this.opts = opts;
    this.store = new MemoryTables({ ours: (vip) => this.owns(vip), chunk });
    this.applier = new SyncApplier(this.store, id * 1000);
    this.start(now);
  }

  set active(on: boolean) {
    this.owns = () => on;
  }

  /** The table's entries by key. */
  get table(): Map<string, SyncEntry> {
    return this.store.entries();
  }

  /** A process (re)start: new session and fresh protocol state; the table (pinned maps) survives. */
  start(now: number): void {
    const session = new SenderSession(
      newSessionId(WALL0 + now, this.id * 100 + this.restarts++),
      WALL0 + now,
      now,
    );
    this.codec = new SyncCodec({
      nodeId: this.id,
      keyring: new Keyring([{ id: 1, secret: SECRET }], 1),
      session,
      guard: this.guard,
    });
    this.sender = new SyncSender(this.opts, session.id, now);
    this.receiver = new SyncReceiver(this.opts, now, this.id * 1000 + this.restarts);
  }

  /** A local change (the forwarder saw a new flow or a close), streamed to the peer. */
  change(entries: readonly SyncEntry[], now: number): void {
    this.store.change(entries);
    const c = this.store.changes();
    this.sender.enqueue(c.entries, c.count, now);
  }
}

interface InFlight {
  at: number;
  to: Endpoint;
  bytes: Buffer;
}

export class SyncSim {
  now = 0;
  readonly a: Endpoint;
  readonly b: Endpoint;
  faults: NetFaults = { loss: 0, dup: 0, jitterMs: 0 };
  partitioned = false;
  readonly wire: Buffer[] = [];
  private queue: InFlight[] = [];
  private readonly rand: () => number;

  constructor(seed: number, opts: Partial<SyncOptions> = {}, chunk?: number) {
    this.rand = prng(seed);
    const o = syncOptions(opts);
    this.a = new Endpoint(1, 0, o, chunk);
    this.b = new Endpoint(2, 0, o, chunk);
    this.a.active = true;
  }

  peer(e: Endpoint): Endpoint {
    return e === this.a ? this.b : this.a;
  }

  /** A's table changes and is streamed live, as the forwarder's ring buffer would report it. */
  change(entries: SyncEntry[]): void {
    this.a.change(entries, this.now);
  }

  send(from: Endpoint, messages: Parameters<SyncCodec['encode']>[0][]): void {
    for (const m of messages) {
      const bytes = from.codec.encode(m, this.peer(from).id, this.now);
      this.wire.push(bytes);
      this.transmit(this.peer(from), bytes);
    }
  }

  transmit(to: Endpoint, bytes: Buffer): void {
    if (this.partitioned || this.rand() < this.faults.loss) return;
    const copies = this.rand() < this.faults.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.queue.push({ at: this.now + 0.2 + this.rand() * this.faults.jitterMs, to, bytes });
    }
  }

  private deliver(to: Endpoint, bytes: Buffer): void {
    const d = to.codec.decode(bytes, { mono: this.now, wall: WALL0 + this.now });
    if (!d.ok) {
      to.drops.set(d.reason, (to.drops.get(d.reason) ?? 0) + 1);
      return;
    }
    const m = d.message;
    if (m.type === 'ack' || m.type === 'nack' || m.type === 'bulk-request') {
      const r = to.sender.step(this.now, m);
      if (r.bulkRequested !== undefined) to.sender.bulk(r.bulkRequested, () => to.store.openBulk());
      this.send(to, r.send);
    } else {
      const r = to.receiver.step(this.now, d.session, m);
      to.applier.apply(r.apply);
      this.send(to, r.send);
    }
  }

  /** Advances the clock by `ms` in 1 ms steps: deliveries due, then both sides' timers. */
  run(ms: number): void {
    for (let i = 0; i < ms; i++) {
      this.now += 1;
      const due = this.queue.filter((f) => f.at <= this.now).sort((x, y) => x.at - y.at);
      this.queue = this.queue.filter((f) => f.at > this.now);
      for (const f of due) this.deliver(f.to, f.bytes);
      for (const e of [this.a, this.b]) {
        this.send(e, e.sender.tick(this.now));
        const r = e.receiver.tick(this.now);
        e.applier.apply(r.apply);
        this.send(e, r.send);
      }
    }
  }

  /** Runs until B is in sync with A and nothing is in flight, or `limitMs` passes. */
  settle(limitMs = 20_000): boolean {
    for (let t = 0; t < limitMs; t += 10) {
      this.run(10);
      const s = this.a.sender.status(this.now);
      if (this.b.receiver.inSync && s.inFlight === 0 && s.queued === 0 && this.queue.length === 0)
        return true;
    }
    return false;
  }
}

let port = 1000;
/** A random-ish entry from the benchmarking range. */
export function conn(rand: () => number, v6 = rand() < 0.3): SyncEntry {
  const a = v6 ? 16 : 4;
  const client = new Uint8Array(a);
  const vip = new Uint8Array(a);
  const rs = new Uint8Array(a);
  if (v6) {
    client.set([0x20, 0x01, 0, 2]);
    vip.set([0x20, 0x01, 0, 2]);
    rs.set([0x20, 0x01, 0, 2]);
  } else {
    client.set([198, 18]);
    vip.set([198, 18, 0, 200]);
    rs.set([198, 18, 0]);
  }
  client[a - 2] = Math.floor(rand() * 256);
  client[a - 1] = Math.floor(rand() * 256);
  vip[a - 1] = 200;
  rs[a - 1] = 100 + Math.floor(rand() * 3);
  port = (port % 60000) + 1;
  return {
    kind: 'conn',
    proto: rand() < 0.8 ? 6 : 17,
    client,
    clientPort: 1024 + port,
    vip,
    vport: 80,
    realServer: rs,
    tcpState: 1,
    lifetimeMs: 900_000,
  };
}

export function sameTable(x: Map<string, SyncEntry>, y: Map<string, SyncEntry>): string | undefined {
  if (x.size !== y.size) return `sizes differ: ${x.size} vs ${y.size}`;
  for (const [k, e] of x) {
    const f = y.get(k);
    if (!f) return `missing ${k}`;
    if (Buffer.compare(Buffer.from(e.realServer ?? []), Buffer.from(f.realServer ?? [])) !== 0)
      return `real server differs for ${k}`;
  }
  return undefined;
}
