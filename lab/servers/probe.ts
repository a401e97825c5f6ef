/**
 * One-shot client for lab checks, run inside a client namespace. Prints one
 * JSON line: {"ok":true,"answer":"r2","ms":1.2} or {"ok":false,"error":"..."}.
 *
 *   probe.ts http ADDR [PORT]   GET /, answer = body (the real server's name)
 *   probe.ts tcp  ADDR [PORT]   connect, answer = name from the HELLO line, then
 *                               checks an echo round trip
 *   probe.ts udp  ADDR [PORT]   one datagram, answer = name from the reply; the
 *                               socket is connected, so a reply from any other
 *                               source address than ADDR is never seen
 */
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { connect, isIPv6 } from 'node:net';

const [kind, addr, portArg] = process.argv.slice(2);
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS ?? 2000);
const t0 = performance.now();

function done(result: { ok: boolean; answer?: string; error?: string; local?: string }): never {
  console.log(JSON.stringify({ ...result, ms: Number((performance.now() - t0).toFixed(2)) }));
  process.exit(0);
}

setTimeout(() => done({ ok: false, error: `timeout after ${timeoutMs} ms` }), timeoutMs).unref();

if (kind === 'http') {
  const req = request({ host: addr, port: Number(portArg ?? 80), path: '/', agent: false }, (res) => {
    let body = '';
    res.on('data', (d) => {
      body += d;
    });
    res.on('end', () => done({ ok: res.statusCode === 200, answer: body.trim() }));
  });
  req.on('error', (e) => done({ ok: false, error: e.message }));
  req.end();
} else if (kind === 'tcp') {
  const sock = connect({ host: addr, port: Number(portArg ?? 7000) });
  let buf = '';
  let name = '';
  sock.on('data', (d) => {
    buf += d.toString();
    if (!name) {
      const m = /^HELLO (\S+)\n/.exec(buf);
      if (!m) return;
      name = m[1];
      buf = buf.slice(m[0].length);
      sock.write('ping\n');
    }
    if (buf.includes('ping\n')) {
      const local = `${sock.localAddress}:${sock.localPort}`;
      sock.end();
      done({ ok: true, answer: name, local });
    }
  });
  sock.on('error', (e) => done({ ok: false, error: e.message }));
} else if (kind === 'udp') {
  const s = createSocket(isIPv6(addr) ? 'udp6' : 'udp4');
  s.on('message', (msg) => {
    const text = msg.toString();
    done({ ok: text.endsWith(' probe'), answer: text.split(' ')[0] });
  });
  s.on('error', (e) => done({ ok: false, error: e.message }));
  s.connect(Number(portArg ?? 7001), addr, () => s.send('probe'));
} else {
  console.error('usage: probe.ts http|tcp|udp ADDR [PORT]');
  process.exit(2);
}
