/**
 * Long-lived TCP streams through a VIP, for failover tests: N connections to
 * the lab's TCP echo service (:7000 greets "HELLO <name>\n", then echoes), each
 * sending a sequenced line every `--interval-ms` and checking that the echo
 * comes back in order. What a client of a load-balanced service would notice
 * is what it measures, per connection:
 *   - errors: a reset, an unexpected close, an echo out of order;
 *   - maxDelayMs: the longest any line waited for its echo (the stall a
 *     failover causes: TCP retransmits across the outage, so a line sent just
 *     before it comes back only after it and the retransmission backoff);
 *   - bytes each way, and which real server answered.
 *
 *   streams.ts --addr VIP [--port 7000] [--count 50] [--interval-ms 20] [--from SRC]
 *
 * Prints {"ready":...} once every connection is greeted. Commands on stdin, one per line:
 *   report  prints {"report":...} (the figures so far)
 *   reset   starts a new measurement window (maxDelayMs back to 0; errors are kept)
 *   stop    prints {"final":...} and exits
 */
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    addr: { type: 'string' },
    port: { type: 'string', default: '7000' },
    count: { type: 'string', default: '50' },
    'interval-ms': { type: 'string', default: '20' },
    from: { type: 'string' },
  },
});
if (!values.addr) throw new Error('--addr is required');
const addr = values.addr;
const port = Number(values.port);
const count = Number(values.count);
const intervalMs = Number(values['interval-ms']);
const PAD = 'x'.repeat(48);

interface Stream {
  id: number;
  sock: Socket;
  server: string;
  localPort: number;
  sent: number;
  echoed: number;
  bytesOut: number;
  bytesIn: number;
  /** Send time of every line not yet echoed, by seq. */
  pending: Map<number, number>;
  maxDelayMs: number;
  errors: string[];
  closed: boolean;
  buf: string;
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

function open(id: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: addr, port, localAddress: values.from });
    sock.setNoDelay(true);
    const s: Stream = {
      id,
      sock,
      server: '',
      localPort: 0,
      sent: 0,
      echoed: 0,
      bytesOut: 0,
      bytesIn: 0,
      pending: new Map(),
      maxDelayMs: 0,
      errors: [],
      closed: false,
      buf: '',
    };
    const timer = setTimeout(() => reject(new Error(`stream ${id}: no greeting in 5 s`)), 5000);
    sock.on('error', (e) => s.errors.push(`${e.message}`));
    sock.on('close', () => {
      s.closed = true;
      if (s.errors.length === 0 && !stopping) s.errors.push('closed by the peer');
      clearTimeout(timer);
      if (!s.server) reject(new Error(`stream ${id}: closed before the greeting: ${s.errors.join('; ')}`));
    });
    sock.on('data', (d: Buffer) => {
      s.bytesIn += d.length;
      s.buf += d.toString('latin1');
      if (!s.server) {
        const m = /^HELLO (\S+)\n/.exec(s.buf);
        if (!m) return;
        s.server = m[1];
        s.localPort = sock.localPort ?? 0;
        s.buf = s.buf.slice(m[0].length);
        clearTimeout(timer);
        resolve(s);
      }
      const now = performance.now();
      for (let nl = s.buf.indexOf('\n'); nl >= 0; nl = s.buf.indexOf('\n')) {
        const line = s.buf.slice(0, nl);
        s.buf = s.buf.slice(nl + 1);
        const seq = Number(line.split(' ')[0]);
        const at = s.pending.get(seq);
        if (seq !== s.echoed || at === undefined || line !== `${seq} ${PAD}`) {
          s.errors.push(`echo out of order: expected ${s.echoed}, got ${JSON.stringify(line.slice(0, 20))}`);
          continue;
        }
        s.pending.delete(seq);
        s.echoed++;
        s.maxDelayMs = Math.max(s.maxDelayMs, now - at);
      }
    });
  });
}

let stopping = false;
const streams = await Promise.all(Array.from({ length: count }, (_, i) => open(i)));
const servers: Record<string, number> = {};
for (const s of streams) servers[s.server] = (servers[s.server] ?? 0) + 1;
console.log(JSON.stringify({ ready: { count: streams.length, servers } }));

const ticker = setInterval(() => {
  const now = performance.now();
  for (const s of streams) {
    if (s.closed) continue;
    const line = `${s.sent} ${PAD}\n`;
    s.pending.set(s.sent, now);
    s.sent++;
    s.bytesOut += line.length;
    s.sock.write(line);
  }
}, intervalMs);

function report() {
  const now = performance.now();
  const per = streams.map((s) => {
    // A line still waiting counts too: a stream stuck at the end is a stall, not a success.
    const oldest = s.pending.size ? now - Math.min(...s.pending.values()) : 0;
    return {
      id: s.id,
      server: s.server,
      localPort: s.localPort,
      sent: s.sent,
      echoed: s.echoed,
      bytesOut: s.bytesOut,
      bytesIn: s.bytesIn,
      maxDelayMs: Math.round(Math.max(s.maxDelayMs, oldest)),
      errors: s.errors,
    };
  });
  const delays = per.map((p) => p.maxDelayMs).sort((a, b) => a - b);
  return {
    count: per.length,
    alive: streams.filter((s) => !s.closed && s.errors.length === 0).length,
    withErrors: per.filter((p) => p.errors.length > 0).length,
    maxDelayMs: delays.at(-1) ?? 0,
    medianMaxDelayMs: delays[Math.floor(delays.length / 2)] ?? 0,
    sent: per.reduce((a, p) => a + p.sent, 0),
    echoed: per.reduce((a, p) => a + p.echoed, 0),
    bytes: per.reduce((a, p) => a + p.bytesOut + p.bytesIn, 0),
    loopDelayMaxMs: Math.round(loop.max / 1e6),
    servers,
    streams: per,
  };
}

createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'report') console.log(JSON.stringify({ report: report() }));
  else if (cmd === 'reset') {
    for (const s of streams) s.maxDelayMs = 0;
    loop.reset();
  } else if (cmd === 'stop') {
    clearInterval(ticker);
    // The last lines' echoes are in flight: wait for them (bounded) before the verdict.
    const started = performance.now();
    const settle = setInterval(() => {
      if (streams.every((s) => s.pending.size === 0 || s.closed) || performance.now() - started > 3000) {
        clearInterval(settle);
        const final = report();
        stopping = true;
        for (const s of streams) s.sock.destroy();
        console.log(JSON.stringify({ final }));
        process.exit(0);
      }
    }, 20);
  }
});
