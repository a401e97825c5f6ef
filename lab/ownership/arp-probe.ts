/**
 * The ownership benchmark's client: run inside a lab client namespace, it broadcasts an ARP
 * request for the VIP every slot (--slot-ms, default 1) and records which MACs answered within
 * each slot (arp-answers.ts). Requests carry the client's own address, so only directors holding
 * the VIP (or anything else answering for it) reply.
 *
 * Slots are paced by the clock: after a stall of this process it skips ahead (the skipped slots
 * count as unanswered, and `maxSlipMs` says how long the probe itself stalled).
 *
 * Prints "READY" once sending; on SIGTERM or after --duration-ms prints
 * "RESULT {slots, slotMs, startedAt, maxSlipMs, sendErrors, changes}" and exits. startedAt is epoch ms, so
 * the benchmark maps its own events to slots.
 *
 * Usage: arp-probe.ts --vip 198.18.0.200 --src 198.18.0.30 --mac 02:d5:00:00:03:00 [--slot-ms 1]
 *        [--duration-ms 120000]
 */
import { parseArgs } from 'node:util';
import { interfaceIndex, recvFrom, sendTo } from '../../core/kernel/libc.ts';
import { sockaddrLl } from '../../failover/vip/announcer.ts';
import { arpClaim } from '../../failover/vip/arp-claim.ts';
import { openArpSocket } from '../../failover/vip/claim-sockets.ts';
import { arpRequest } from '../../failover/vip/frames.ts';

const { values } = parseArgs({
  options: {
    vip: { type: 'string' },
    src: { type: 'string' },
    mac: { type: 'string' },
    'slot-ms': { type: 'string', default: '1' },
    'duration-ms': { type: 'string', default: '120000' },
  },
});
if (!values.vip || !values.src || !values.mac) throw new Error('--vip, --src and --mac are required');
const vip = values.vip;
const slotMs = Number(values['slot-ms']);
const durationMs = Number(values['duration-ms']);

const ifindex = interfaceIndex('eth0');
const fd = openArpSocket(ifindex);
// who-has VIP tell SRC, broadcast.
const request = arpRequest(values.mac, values.src, vip);
const to = sockaddrLl(ifindex, request);

const changes: [number, string][] = [];
const buf = Buffer.alloc(128);
const nap = new Int32Array(new SharedArrayBuffer(4));
const startedAt = performance.timeOrigin + performance.now();
const t0 = performance.now();
let slot = 0;
let last = '\0';
let maxSlipMs = 0;
let sendErrors = 0;
let stopped = false;

function answers(): string {
  const macs = new Set<string>();
  for (;;) {
    const r = recvFrom(fd, buf, 20);
    if (r === undefined) break;
    const claim = arpClaim(buf.subarray(0, Math.min(r.length, buf.length)));
    // A reply (op 2) from whoever holds the VIP; our own request is not one.
    if (claim !== null && claim.address === vip && buf.readUInt16BE(20) === 2) macs.add(claim.mac);
  }
  return [...macs].sort().join(',');
}

/** Runs slots for about 20 ms, then yields so signals are handled. */
function run(): void {
  const until = performance.now() + 20;
  while (!stopped && performance.now() < until) {
    try {
      sendTo(fd, request, to);
    } catch {
      sendErrors++; // ENOBUFS while a link changes: this slot's request is lost, the next goes out
    }
    const end = t0 + (slot + 1) * slotMs;
    const wait = end - performance.now();
    if (wait > 0) Atomics.wait(nap, 0, 0, wait);
    const macs = answers();
    if (macs !== last) {
      changes.push([slot, macs]);
      last = macs;
    }
    slot++;
    // Behind the clock (this process stalled): the slots it missed were not measured ('?').
    const behind = Math.floor((performance.now() - t0) / slotMs) - slot;
    if (behind > 0) {
      maxSlipMs = Math.max(maxSlipMs, behind * slotMs);
      changes.push([slot, '?']);
      last = '?';
      slot += behind;
    }
    if (performance.now() - t0 >= durationMs) stopped = true;
  }
  if (stopped) finish();
  else setImmediate(run);
}

function finish(): void {
  process.stdout.write(
    `RESULT ${JSON.stringify({ slots: slot, slotMs, startedAt, maxSlipMs, sendErrors, changes })}\n`,
  );
  process.exit(0);
}

process.on('SIGTERM', () => {
  stopped = true;
});
process.stdout.write('READY\n');
run();
