/**
 * ns/packet under BPF_PROG_TEST_RUN: the forwarder's XDP program on each path
 * a packet can take, the MAC-swap floor, and the forwarder's established hit
 * with a full connection table.
 *
 * Two forwarder instances are loaded, each with its own maps: "few" holds a
 * handful of flows, "full" is filled with `fullEntries` flows. Trials of the
 * floor, few and full are interleaved, so drift on these shared cores hits
 * every program alike. Interference from other work can
 * only add time, so each figure is the best (lowest) of its trials; every
 * trial is printed next to it.
 *
 * Established hit, non-service pass and a stateless packet (an ACK of no known
 * flow: what a spoofed flood costs with forwarder.syn_only) repeat one frame
 * `repeat` times. A new flow and a persistence hit cannot be repeated that way:
 * a TCP flow opens with a SYN, which makes its entry. Those two run K distinct
 * SYNs once each (repeat = 1), and the kernel's time for a single run carries a
 * fixed extra cost (timer reads, cold start). That extra is measured on the
 * same K flows run once more as ACKs, now established, and subtracted:
 * new_flow = median(SYN runs) - (median(ACK runs) - established).
 * Counters in reason_stats check that each path really was taken.
 */
import { DsrError } from '../../core/errors.ts';
import { createForwarderInstance, type ForwarderInstance } from '../../forwarder/harness.ts';
import { DSR, type Reason } from '../../forwarder/layout.ts';
import { XDP_PASS, XDP_TX } from '../../forwarder/libbpf.ts';
import { summarize } from '../report.ts';
import { benchDesired, benchService, benchServiceName } from './forwarder-setup.ts';
import { buildFrame4, macBytes, TCP_ACK, TCP_SYN } from './frames.ts';
import { loadFloor, trialNs } from './testrun-ns.ts';

export interface TestRunOptions {
  repeat: number;
  trials: number;
  /** Distinct flows for the new-flow and persistence figures. */
  newFlows: number;
  /** Connection entries for the full-table figure. */
  fullEntries: number;
}

export interface NsRow {
  label: string;
  ns: number;
  detail: string;
}

export interface TestRunFigures {
  floor: number;
  established: number;
  newFlow: number;
  persistence: number;
  pass: number;
  stateless: number;
  establishedFull: number;
  fullTableEntries: number;
  rows: NsRow[];
}

/** Most distinct flows per figure: their ring-buffer events (2K in all) must fit the 4 MiB ring. */
export const MAX_NEW_FLOWS = 30_000;

// The frames use the lab's address plan (design brief §3: benchmarking ranges only).
const DIRECTOR_MAC = '02:d5:00:00:01:00';
const CLIENT_MAC = '02:d5:00:00:02:00';
// BPF_PROG_TEST_RUN with repeat feeds the program its own output frame again, and the program
// only forwards frames addressed to the director (others are passed: pass_other_mac). So the real
// servers here share the director's MAC: every repetition is then addressed to the director and
// takes the same established path, which is what the figure measures. The work per packet (parse,
// lookup, rewrite both MACs, XDP_TX) is the same as with distinct MACs.
const REAL_MACS = [DIRECTOR_MAC, DIRECTOR_MAC, DIRECTOR_MAC];
const CLIENT_IP = '198.18.0.10';
// Clients of the new-flow and persistence figures: outside the harness's fill (198.18.0.0 + i >> 10).
const NEW_FLOW_CLIENT = '198.19.1.1';
const PERSIST_CLIENT = '198.19.2.1';
const VIP = '198.18.0.200';
const PORT_PLAIN = 80;
const PORT_PERSIST = 443;
const PORT_NONE = 22;

function frame(srcIp: string, sport: number, dport: number, tcpFlags = TCP_ACK): Buffer {
  return buildFrame4({
    srcMac: CLIENT_MAC,
    dstMac: DIRECTOR_MAC,
    srcIp,
    dstIp: VIP,
    proto: 'tcp',
    sport,
    dport,
    tcpFlags,
  });
}

function loadConfigured(connEntries: number): ForwarderInstance {
  const reals = REAL_MACS.map((mac, i) => ({ addr: `198.18.0.${100 + i}`, mac }));
  return createForwarderInstance({
    load: { pinDir: null, connEntries },
    desired: benchDesired(DIRECTOR_MAC, [
      benchService(VIP, 'tcp', PORT_PLAIN, reals),
      benchService(VIP, 'tcp', PORT_PERSIST, reals, 300),
    ]),
  });
}

const reasonCount = (fwd: ForwarderInstance, reason: Reason): bigint => fwd.stats.reasons()[reason].packets;

/** Sends the frame once and checks that it went to one of the real servers. */
function recordFlow(fwd: ForwarderInstance, f: Buffer): void {
  const r = fwd.run(f);
  if (r.action !== XDP_TX || !REAL_MACS.some((m) => macBytes(m).equals(r.frame.subarray(0, 6)))) {
    throw new DsrError(
      'E_BENCH',
      `the forwarder did not send a service frame to a real server (${r.verdict})`,
      {
        verdict: r.verdict,
      },
    );
  }
}

/** Opens the flow of an ACK frame with its SYN, as a client does. */
const syn = (ack: Buffer): Buffer => {
  const f = Buffer.from(ack);
  f[14 + 20 + 13] = TCP_SYN;
  return f;
};

/** Runs `frames` once each; returns the median kernel-reported ns (robust to a preempted run). */
function medianSingleRuns(fwd: ForwarderInstance, frames: readonly Buffer[], label: string): number {
  const ns: number[] = [];
  for (const f of frames) {
    const r = fwd.run(f);
    if (r.action !== XDP_TX) {
      throw new DsrError('E_BENCH', `${label}: program returned ${r.verdict}, expected tx`, { label });
    }
    ns.push(r.ns);
  }
  return summarize(ns).median;
}

/** First-run cost of K new flows (client `srcIp`, service port), counted on `reason`. */
function firstRunNs(
  fwd: ForwarderInstance,
  srcIp: string,
  dport: number,
  k: number,
  reason: Reason,
  established: number,
): { ns: number; detail: string } {
  const acks = Array.from({ length: k }, (_, i) => frame(srcIp, 1024 + i, dport));
  const before = reasonCount(fwd, reason);
  const raw = medianSingleRuns(fwd, acks.map(syn), reason);
  const counted = reasonCount(fwd, reason) - before;
  const again = medianSingleRuns(fwd, acks, `${reason}, second pass`);
  if (counted !== BigInt(k)) {
    throw new DsrError('E_BENCH', `expected ${k} packets on path ${reason}, the program counted ${counted}`, {
      reason,
    });
  }
  return {
    ns: raw - (again - established),
    detail: `median of ${k} flows: ${raw} the SYN, ${again} an ACK when established`,
  };
}

export function measureTestRuns(o: TestRunOptions): TestRunFigures {
  if (!Number.isInteger(o.newFlows) || o.newFlows < 1 || o.newFlows > MAX_NEW_FLOWS) {
    throw new DsrError('E_USAGE', `--new-flows must be 1..${MAX_NEW_FLOWS}`, { newFlows: o.newFlows });
  }
  const connEntries = Math.max(DSR.CONN_DEFAULT_ENTRIES, o.fullEntries);
  const floor = loadFloor(REAL_MACS[0]);
  let few: ForwarderInstance | null = null;
  let full: ForwarderInstance | null = null;
  try {
    few = loadConfigured(connEntries);
    full = loadConfigured(connEntries);
    const est = frame(CLIENT_IP, 40000, PORT_PLAIN);
    const none = frame(CLIENT_IP, 40000, PORT_NONE);
    full.fillConnTable(o.fullEntries, {
      service: benchServiceName('tcp', VIP, PORT_PLAIN),
      real: '198.18.0.100',
    });
    const fullTableEntries = full.tables.countConns();
    // Stateless: an ACK of a flow no SYN opened (forwarder.syn_only, the default).
    const stray = frame(CLIENT_IP, 40001, PORT_PLAIN);
    recordFlow(few, syn(est));
    recordFlow(full, syn(est));

    const t = {
      floor: [] as number[],
      est: [] as number[],
      full: [] as number[],
      pass: [] as number[],
      stateless: [] as number[],
    };
    for (let i = 0; i < o.trials; i++) {
      t.floor.push(trialNs(floor.progFd, est, o.repeat, XDP_TX, 'floor'));
      t.est.push(trialNs(few.loaded.progFd, est, o.repeat, XDP_TX, 'established'));
      t.full.push(trialNs(full.loaded.progFd, est, o.repeat, XDP_TX, 'established, full table'));
      t.pass.push(trialNs(few.loaded.progFd, none, o.repeat, XDP_PASS, 'non-service pass'));
      t.stateless.push(trialNs(few.loaded.progFd, stray, o.repeat, XDP_TX, 'stateless'));
    }
    const best = (v: number[]) => summarize(v).min;
    const established = best(t.est);
    const newFlow = firstRunNs(few, NEW_FLOW_CLIENT, PORT_PLAIN, o.newFlows, 'tx_new_flow', established);
    recordFlow(few, frame(PERSIST_CLIENT, 999, PORT_PERSIST, TCP_SYN)); // creates the persistence entry
    const persistence = firstRunNs(
      few,
      PERSIST_CLIENT,
      PORT_PERSIST,
      o.newFlows,
      'tx_persist_hit',
      established,
    );

    const trials = (v: number[]) => `trials ${v.join(' ')}`;
    const rows: NsRow[] = [
      { label: 'floor (MAC swap, XDP_TX)', ns: best(t.floor), detail: trials(t.floor) },
      { label: 'dsr-director: established hit', ns: established, detail: trials(t.est) },
      { label: 'dsr-director: new flow', ns: newFlow.ns, detail: newFlow.detail },
      { label: 'dsr-director: persistence hit', ns: persistence.ns, detail: persistence.detail },
      { label: 'dsr-director: non-service pass', ns: best(t.pass), detail: trials(t.pass) },
      { label: 'dsr-director: stateless (ACK, no flow)', ns: best(t.stateless), detail: trials(t.stateless) },
      {
        label: `dsr-director: established, ${fullTableEntries} conns`,
        ns: best(t.full),
        detail: trials(t.full),
      },
    ];
    return {
      floor: best(t.floor),
      established,
      newFlow: newFlow.ns,
      persistence: persistence.ns,
      pass: best(t.pass),
      stateless: best(t.stateless),
      establishedFull: best(t.full),
      fullTableEntries,
      rows,
    };
  } finally {
    full?.close();
    few?.close();
    floor.close();
  }
}
