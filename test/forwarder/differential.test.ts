/**
 * Differential test: 100k random packets through the XDP program
 * (BPF_PROG_TEST_RUN) and through the TypeScript reference model
 * (forwarder/model.ts) over the same desired state. Both must give the same
 * verdict and the same real server every time, including repeated flows
 * across a weight change half-way.
 */
import test from 'ava';
import { FakeMapStore } from '../../forwarder/fake-map-store.ts';
import { buildFrame, TCP_ACK, TCP_FIN, TCP_SYN } from '../../forwarder/frames.ts';
import { IPPROTO_TCP, IPPROTO_UDP, parseMapAddress } from '../../forwarder/layout.ts';
import { buildMaglevTable } from '../../forwarder/maglev.ts';
import { type ModelPacket, SelectionModel } from '../../forwarder/model.ts';
import { type DesiredState, Reconciler } from '../../forwarder/reconciler.ts';
import { CLIENT_MAC, DIRECTOR_MAC, dstMac, instance, nowNs, skipReason } from './support.ts';

const PACKETS = 100_000;
const SEED = Number(process.env.DSR_DIFF_SEED ?? 0x5eed);

/** xorshift32: small, seeded, reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const REALS = Array.from({ length: 7 }, (_, i) => ({
  address: `198.18.0.${100 + i}`,
  mac: `02:d5:00:00:20:${(i + 1).toString(16).padStart(2, '0')}`,
}));

function desired(weights: number[]): DesiredState {
  const rs = (n: number) =>
    REALS.slice(0, n).map((r, i) => ({ address: r.address, mac: r.mac, weight: weights[i] }));
  return {
    directorMac: DIRECTOR_MAC,
    services: [
      { vip: '198.18.0.200', protocol: 'tcp', port: 80, reals: rs(7) },
      { vip: '198.18.0.200', protocol: 'udp', port: 0, reals: rs(5) },
      {
        vip: '198.18.0.201',
        protocol: 'tcp',
        port: 443,
        persistence: { timeoutSec: 300, prefixLen: 24 },
        reals: rs(6),
      },
      { vip: '2001:2::200', protocol: 'tcp', port: 80, reals: rs(7) },
      { vip: '2001:2::200', protocol: 'udp', port: 53, maglevSize: 251, reals: rs(3) },
      {
        vip: '2001:2::201',
        protocol: 'tcp',
        port: 0,
        persistence: { timeoutSec: 300, prefixLen: 64 },
        reals: rs(4),
      },
    ],
  };
}

const VIPS4 = ['198.18.0.200', '198.18.0.201', '198.18.0.202'];
const VIPS6 = ['2001:2::200', '2001:2::201', '2001:2::202'];
const PORTS = [80, 443, 53, 22, 8080];

interface Pkt {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  sport: number;
  dport: number;
  tcpFlags: number;
}

function randomPacket(r: () => number): Pkt {
  const v6 = r() < 0.4;
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const src = v6
    ? `2001:2:0:${Math.floor(r() * 4).toString(16)}::${Math.floor(r() * 0xffff).toString(16)}`
    : `198.${18 + Math.floor(r() * 2)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`;
  const flagsRoll = r();
  return {
    src,
    dst: pick(v6 ? VIPS6 : VIPS4),
    proto: r() < 0.6 ? 'tcp' : 'udp',
    sport: 1024 + Math.floor(r() * 64000),
    dport: r() < 0.1 ? 1 + Math.floor(r() * 65535) : pick(PORTS),
    tcpFlags: flagsRoll < 0.5 ? TCP_SYN : flagsRoll < 0.95 ? TCP_ACK : TCP_FIN | TCP_ACK,
  };
}

const t0 = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`differential test: ${skipReason}`, () => {});

t0(`${PACKETS} random packets: program and reference model choose the same real server`, (t) => {
  const fwd = instance(t, desired([1, 2, 3, 1, 1, 2, 5]), { connEntries: 262144, persistEntries: 65536 });
  const fake = new FakeMapStore();
  const modelReconciler = Reconciler.restore(fake, buildMaglevTable);
  modelReconciler.reconcile(desired([1, 2, 3, 1, 1, 2, 5]));
  const model = new SelectionModel(fake);
  const macToAddress = new Map(REALS.map((r) => [r.mac, r.address]));

  const r = rng(SEED);
  const seen: Pkt[] = [];
  const tally = { tx: 0, pass: 0, drop: 0, repeats: 0, drainedKept: 0, drainedNew: 0 };
  for (let i = 0; i < PACKETS; i++) {
    if (i === PACKETS / 2) {
      // Weight change half-way (one server drained): existing flows must stay, in both.
      const w = [0, 2, 1, 3, 1, 2, 5];
      fwd.reconcile(desired(w));
      modelReconciler.reconcile(desired(w));
    }
    let p: Pkt;
    if (seen.length > 0 && r() < 0.3) {
      p = { ...seen[Math.floor(r() * seen.length)], tcpFlags: r() < 0.9 ? TCP_ACK : TCP_SYN };
      tally.repeats++;
    } else {
      p = randomPacket(r);
      if (seen.length < 20000) seen.push(p);
    }
    const out = fwd.run(buildFrame({ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, ...p }));
    const src = parseMapAddress(p.src);
    const mp: ModelPacket = {
      flow: {
        src: src.bytes,
        dst: parseMapAddress(p.dst).bytes,
        sport: p.sport,
        dport: p.dport,
        proto: p.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
        family: src.family,
      },
      tcpFlags: p.proto === 'tcp' ? p.tcpFlags : 0,
    };
    const want = model.step(mp, nowNs());
    const wantVerdict = want.action === 'forward' ? 'tx' : want.action;
    const got = out.verdict === 'tx' ? macToAddress.get(dstMac(out.frame)) : undefined;
    const wantReal = want.action === 'forward' ? modelReconciler.realById(want.realId)?.address : undefined;
    if (out.verdict !== wantVerdict || got !== wantReal) {
      t.fail(
        `packet ${i} (seed ${SEED}) ${JSON.stringify(p)}: program ${out.verdict} ${got ?? ''}, model ${wantVerdict} ${wantReal ?? ''} (${want.action === 'forward' ? want.via : want.reason})`,
      );
      return;
    }
    tally[out.verdict as 'tx' | 'pass' | 'drop']++;
    if (i >= PACKETS / 2 && want.action === 'forward' && wantReal === REALS[0].address) {
      if (want.via === 'conn') tally.drainedKept++;
      else tally.drainedNew++;
    }
  }
  t.log(tally);
  t.true(
    tally.tx > PACKETS / 5 && tally.pass > PACKETS / 10,
    'both forwarded and passed packets were exercised',
  );
  t.true(tally.drainedKept > 0, 'flows of the drained server kept going after the change');
  t.is(tally.drainedNew, 0, 'the drained server got no new flows');
});
