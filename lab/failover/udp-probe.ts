/**
 * The failover benchmark's client: run inside a lab client namespace, it sends
 * one UDP datagram "<seq> <send time>" to ADDR:PORT every --interval-ms
 * (default 1 ms) and records each reply "<real server> <seq> <send time>" from
 * the lab real servers' UDP echo.
 *
 * Pacing: node timers fire at best every ~1 ms, so each wake-up sends every
 * probe that is due by performance.now() (at most a few at once; after a
 * longer stall of this process it skips ahead rather than flood, and the stall
 * shows as `maxSendGapMs`). The achieved rate is reported, not assumed.
 *
 * Prints "STARTED" when sending begins, "READY <server>" at the first reply (the analysed
 * timeline starts at that probe),
 * "STATUS <ms since the last reply> <sent> <replies>" on SIGUSR2 (-1 before
 * any reply), so the benchmark can tell whether replies flow right now; and on SIGTERM/SIGINT or after --duration-ms: stops sending, waits
 * --drain-ms for replies in flight, prints "RESULT <json ProbeSummary>" and
 * exits 0. Times in the result are epoch milliseconds (performance.timeOrigin
 * + performance.now()), so the benchmark can place its fault on the same clock.
 *
 * Usage: udp-probe.ts --addr 198.18.0.200 [--port 7001] [--interval-ms 1]
 *        [--duration-ms 120000] [--drain-ms 100]
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import { sleep } from '../wait.ts';
import { analyzeProbe, type ProbeReply } from './probe-analysis.ts';

const { values } = parseArgs({
  options: {
    addr: { type: 'string' },
    port: { type: 'string', default: '7001' },
    'interval-ms': { type: 'string', default: '1' },
    'duration-ms': { type: 'string', default: '120000' },
    'drain-ms': { type: 'string', default: '100' },
  },
});
const addr = values.addr;
const port = Number(values.port);
const intervalMs = Number(values['interval-ms']);
const durationMs = Number(values['duration-ms']);
const drainMs = Number(values['drain-ms']);
if (!addr || !(port > 0 && port < 65536) || !(intervalMs > 0) || !(durationMs > 0) || !(drainMs >= 0)) {
  console.error(
    'usage: udp-probe.ts --addr ADDR [--port P] [--interval-ms MS] [--duration-ms MS] [--drain-ms MS]',
  );
  process.exit(2);
}

const MAX_BURST = 4;
const capacity = Math.ceil(durationMs / intervalMs) + MAX_BURST + 1;
const sendTimes = new Float64Array(capacity);
const replySeq = new Uint32Array(capacity * 2);
const replyAt = new Float64Array(capacity * 2);
const replyServer = new Uint16Array(capacity * 2);
const serverNames: string[] = [];
let replies = 0;
let badReplies = 0;
let sendErrors = 0;
let seq = 0;
let stopping = false;
let lastReplyAt = -1;
/** Sequence number of the first reply: the analysed timeline starts there (see finish()). */
let firstReplySeq = -1;

const epoch = (): number => performance.timeOrigin + performance.now();
const sock = createSocket(isIPv6(addr) ? 'udp6' : 'udp4');

sock.on('message', (msg) => {
  const at = epoch();
  // "<server> <seq> <time>": anything else is counted and ignored.
  const text = msg.toString('latin1');
  const a = text.indexOf(' ');
  const b = a < 0 ? -1 : text.indexOf(' ', a + 1);
  const n = b < 0 ? Number.NaN : Number(text.slice(a + 1, b));
  if (a <= 0 || !Number.isInteger(n) || n < 0 || n >= seq || replies >= replySeq.length) {
    badReplies++;
    return;
  }
  const server = text.slice(0, a);
  let idx = serverNames.indexOf(server);
  if (idx < 0) {
    if (serverNames.length >= 0xffff) {
      badReplies++;
      return;
    }
    idx = serverNames.push(server) - 1;
    console.log(replies === 0 ? `READY ${server}` : `SERVER ${server}`);
  }
  lastReplyAt = at;
  if (firstReplySeq < 0) firstReplySeq = n;
  replySeq[replies] = n;
  replyAt[replies] = at;
  replyServer[replies] = idx;
  replies++;
});
// A connected UDP socket reports ICMP errors (e.g. port unreachable) here; they are counted, not fatal.
sock.on('error', () => {
  sendErrors++;
});

let next = 0;
function tick(): void {
  if (stopping) return;
  const now = performance.now();
  let burst = 0;
  while (next <= now && burst < MAX_BURST && seq < capacity) {
    const at = epoch();
    sendTimes[seq] = at;
    sock.send(`${seq} ${at.toFixed(3)}`, (err) => {
      if (err) sendErrors++;
    });
    seq++;
    next += intervalMs;
    burst++;
  }
  // After a stall of this process, skip ahead instead of sending a burst.
  if (next < now - intervalMs) next = now + intervalMs;
  if (seq >= capacity || now - start >= durationMs) {
    void finish();
    return;
  }
  setTimeout(tick, Math.max(0, Math.floor(next - performance.now())));
}

let start = 0;
async function finish(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await sleep(drainMs);
  // The timeline starts at the first answered probe: what went unanswered before it is the
  // path warming up (the client resolving the VIP, a new flow's first packets), and the
  // benchmark injects its fault only after READY. With no reply at all, the whole run counts.
  const from = Math.max(0, firstReplySeq);
  const list: ProbeReply[] = [];
  for (let i = 0; i < replies; i++) {
    if (replySeq[i] < from) continue;
    list.push({ seq: replySeq[i] - from, at: replyAt[i], server: serverNames[replyServer[i]] });
  }
  const summary = analyzeProbe({ sendTimes: sendTimes.subarray(from, seq), replies: list });
  console.log(`RESULT ${JSON.stringify({ ...summary, badReplies, sendErrors, intervalMs })}`);
  sock.close();
  process.exit(0);
}

process.on('SIGTERM', () => void finish());
process.on('SIGUSR2', () => {
  const age = lastReplyAt < 0 ? -1 : epoch() - lastReplyAt;
  console.log(`STATUS ${age.toFixed(1)} ${seq} ${replies}`);
});
process.on('SIGINT', () => void finish());

sock.connect(port, addr, () => {
  start = performance.now();
  next = start;
  console.log('STARTED');
  tick();
});
