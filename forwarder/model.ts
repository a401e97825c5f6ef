/**
 * Reference model of the XDP program's selection logic, in plain TypeScript,
 * over the same control maps (a ForwarderView). It keeps its own connection,
 * persistence and fragment tables. The differential test feeds the same
 * flows to the program (BPF_PROG_TEST_RUN) and to this model and expects the
 * same real server every time; a change to dsr_xdp.c's rules that is not
 * mirrored here fails that test.
 *
 * Parsing, counters, events and MAC rewriting are not modelled.
 */
import { maskBytes } from '../core/net/prefix.ts';
import { connAlive, firstState, isExpired, isSyn, nextState } from './conn-state.ts';
import { hashClient, hashFlow } from './flow-hash.ts';
import {
  type ConnEntry,
  DSR,
  encodeFlow,
  encodePersistKey,
  type Flow,
  type ForwarderConfig,
  type FragEntry,
  IPPROTO_TCP,
  type PersistEntry,
  type RealEntry,
  type Reason,
  type SvcEntry,
} from './layout.ts';
import type { ForwarderView } from './map-store.ts';

export interface ModelPacket {
  flow: Flow;
  tcpFlags?: number;
  /** 'first': offset 0 with more fragments; 'later': offset > 0 (no ports) */
  frag?: 'none' | 'first' | 'later';
  fragId?: number;
}

export type ModelVerdict =
  | { action: 'pass'; reason: Reason }
  | { action: 'drop'; reason: Reason }
  | {
      action: 'forward';
      svcId: number;
      realId: number;
      via: 'conn' | 'persist' | 'maglev' | 'fragment' | 'icmp';
    };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class SelectionModel {
  readonly conns = new Map<string, ConnEntry>();
  readonly persist = new Map<string, PersistEntry>();
  readonly frags = new Map<string, FragEntry>();
  private readonly view: ForwarderView;

  constructor(view: ForwarderView) {
    this.view = view;
  }

  /** One TCP/UDP packet (already parsed) at time `now` (ns, the program's clock). */
  step(pkt: ModelPacket, now: bigint): ModelVerdict {
    const cfg = this.view.getConfig();
    const flags = pkt.tcpFlags ?? 0;
    if (pkt.frag === 'later') return this.laterFragment(pkt, cfg, now);

    const ck = hex(encodeFlow(pkt.flow));
    // As the program: a SYN opens a connection without a lookup.
    const syn = isSyn(pkt.flow.proto, flags);
    const c = syn ? undefined : this.conns.get(ck);
    if (c) {
      // As the program: no service check on a hit (removing a service frees its reals).
      const r = this.realGet(c.realId, c.realGen);
      if (r && connAlive(cfg, now, c, pkt.flow.proto, flags)) {
        this.touch(c, cfg, now, pkt.flow.proto, flags);
        this.recordFrag(pkt, c.svcId, c.svcGen, c.realId, c.realGen, now);
        return { action: 'forward', svcId: c.svcId, realId: c.realId, via: 'conn' };
      }
    }

    const found = this.svcFind(pkt.flow);
    if (!found) return { action: 'pass', reason: 'pass_not_service' };
    const { id: svcId, svc } = found;
    // SYN-only mode: another TCP packet of a flow without an entry is forwarded, not recorded.
    const stateless = !syn && pkt.flow.proto === IPPROTO_TCP && (cfg.flags & DSR.CFG_F_SYN_ONLY) !== 0;
    const choice = this.choose(pkt.flow, svcId, svc, cfg, now, !stateless);
    if (!choice) return { action: 'drop', reason: 'drop_no_real' };
    if (stateless) {
      this.recordFrag(pkt, svcId, svc.gen, choice.realId, choice.real.gen, now);
      return { action: 'forward', svcId, realId: choice.realId, via: choice.via };
    }
    const state = firstState(pkt.flow.proto, flags);
    this.conns.set(ck, {
      lastSeenNs: now,
      reportedNs: now,
      realId: choice.realId,
      realGen: choice.real.gen,
      svcId,
      svcGen: svc.gen,
      state,
      syncEpoch: 0,
    });
    this.recordFrag(pkt, svcId, svc.gen, choice.realId, choice.real.gen, now);
    return { action: 'forward', svcId, realId: choice.realId, via: choice.via };
  }

  /** An ICMP too-big whose quote names `flow` (already reversed to the client's direction). */
  tooBig(flow: Flow, now: bigint): ModelVerdict {
    const cfg = this.view.getConfig();
    const c = this.conns.get(hex(encodeFlow(flow)));
    if (c) {
      const s = this.svcGet(c.svcId, c.svcGen);
      if (s && this.realGet(c.realId, c.realGen)) {
        return { action: 'forward', svcId: c.svcId, realId: c.realId, via: 'icmp' };
      }
    }
    const found = this.svcFind(flow);
    if (!found) return { action: 'pass', reason: 'pass_icmp' };
    const choice = this.choose(flow, found.id, found.svc, cfg, now, false);
    if (!choice) return { action: 'pass', reason: 'pass_icmp' };
    return { action: 'forward', svcId: found.id, realId: choice.realId, via: 'icmp' };
  }

  private laterFragment(pkt: ModelPacket, cfg: ForwarderConfig, now: bigint): ModelVerdict {
    const f = this.frags.get(fragKey(pkt));
    if (!f || isExpired(now, f.lastSeenNs, cfg.fragTimeoutNs) || !this.svcGet(f.svcId, f.svcGen)) {
      return { action: 'pass', reason: 'pass_fragment' };
    }
    if (!this.realGet(f.realId, f.realGen)) return { action: 'pass', reason: 'pass_fragment' };
    return { action: 'forward', svcId: f.svcId, realId: f.realId, via: 'fragment' };
  }

  private recordFrag(
    pkt: ModelPacket,
    svcId: number,
    svcGen: number,
    realId: number,
    realGen: number,
    now: bigint,
  ) {
    if (pkt.frag !== 'first') return;
    this.frags.set(fragKey(pkt), { lastSeenNs: now, realId, realGen, svcId, svcGen });
  }

  private touch(c: ConnEntry, cfg: ForwarderConfig, now: bigint, proto: number, flags: number): void {
    const next = nextState(c.state, proto, flags);
    if (next !== c.state) {
      c.state = next;
      c.lastSeenNs = now;
      c.reportedNs = now;
      return;
    }
    if (BigInt.asIntN(64, now - c.lastSeenNs) > BigInt.asIntN(64, cfg.touchNs)) c.lastSeenNs = now;
  }

  private svcFind(flow: Flow): { id: number; svc: SvcEntry } | null {
    const key = { vip: flow.dst, port: flow.dport, proto: flow.proto, family: flow.family };
    const id = this.view.lookupServiceId(key) ?? this.view.lookupServiceId({ ...key, port: 0 });
    if (id === null) return null;
    const svc = this.view.getService(id);
    if (!svc || !(svc.flags & DSR.SVC_F_ACTIVE)) return null;
    return { id, svc };
  }

  private svcGet(id: number, gen: number): SvcEntry | null {
    const s = this.view.getService(id);
    return s && s.gen === gen && s.flags & DSR.SVC_F_ACTIVE ? s : null;
  }

  private realGet(id: number, gen: number): RealEntry | null {
    const r = this.view.getReal(id);
    return r && r.gen === gen && r.flags & DSR.REAL_F_VALID ? r : null;
  }

  private maglevReal(svcId: number, svc: SvcEntry, hash: number): { realId: number; real: RealEntry } | null {
    if (svc.maglevSize === 0) return null;
    const realId = this.view.getMaglevSlot(svcId, hash % svc.maglevSize);
    if (realId === null || realId === DSR.NO_REAL) return null;
    const real = this.view.getReal(realId);
    return real && real.flags & DSR.REAL_F_VALID ? { realId, real } : null;
  }

  private choose(
    flow: Flow,
    svcId: number,
    svc: SvcEntry,
    cfg: ForwarderConfig,
    now: bigint,
    record: boolean,
  ): { realId: number; real: RealEntry; via: 'persist' | 'maglev' } | null {
    if (!(svc.flags & DSR.SVC_F_PERSIST)) {
      const m = this.maglevReal(svcId, svc, hashFlow(flow, cfg.hashSeed));
      return m ? { ...m, via: 'maglev' } : null;
    }
    const client = maskBytes(flow.src, svc.mask);
    const pk = hex(encodePersistKey({ client, svcId, family: flow.family }));
    const pe = this.persist.get(pk);
    if (pe && pe.svcGen === svc.gen && !isExpired(now, pe.lastSeenNs, svc.persistTimeoutNs)) {
      const real = this.view.getReal(pe.realId);
      if (
        real &&
        real.gen === pe.realGen &&
        (real.flags & (DSR.REAL_F_VALID | DSR.REAL_F_DRAIN)) === DSR.REAL_F_VALID
      ) {
        if (record) pe.lastSeenNs = now;
        return { realId: pe.realId, real, via: 'persist' };
      }
    }
    const m = this.maglevReal(svcId, svc, hashClient(client, cfg.hashSeed));
    if (!m) return null;
    if (record)
      this.persist.set(pk, {
        lastSeenNs: now,
        realId: m.realId,
        realGen: m.real.gen,
        svcGen: svc.gen,
        syncEpoch: 0,
      });
    return { ...m, via: 'maglev' };
  }
}

function fragKey(pkt: ModelPacket): string {
  const f = pkt.flow;
  return `${hex(f.src)}|${hex(f.dst)}|${pkt.fragId ?? 0}|${f.proto}|${f.family}`;
}
