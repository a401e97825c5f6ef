/**
 * Many short connections (TCP) or datagrams (UDP) to one address from one
 * process, each from a fresh source port, so the director's flow hash
 * spreads them. Prints one JSON line: {"answers":{"r1":7,...},"errors":[...]}.
 *
 *   client.ts tcp|udp ADDR PORT COUNT [FIRST_SOURCE_PORT]
 * TCP: the real server greets "HELLO <name>\n"; UDP: it answers "<name> <payload>".
 * UDP with FIRST_SOURCE_PORT sends datagram i from that port + i, so a run never reuses a
 * port an earlier run used (an ephemeral port may, and the director rightly keeps an existing
 * flow where it went).
 *
 *   client.ts stream ADDR PORT SECONDS
 * One TCP connection kept busy: a line every 50 ms, each echoed back. Prints
 * {"hello":"r1"} once connected, then {"name":"r1","sent":N,"echoed":N,"errors":[...]}.
 */
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { sleep } from '../../../lab/wait.ts';

const [kind, addr, portArg, countArg, firstSourcePortArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const timeoutMs = 3000;

function once(sourcePort?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    const finish = (err: Error | null, name?: string) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(name ?? '');
    };
    if (kind === 'tcp') {
      const sock = connect({ host: addr, port });
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        const m = /^HELLO (\S+)\n/.exec(buf);
        if (m) {
          sock.end();
          finish(null, m[1]);
        }
      });
      sock.on('error', (e) => finish(e));
    } else {
      // A datagram may be lost (a busy host, an ARP entry moving): sent again every second, from
      // the same port (the same flow), until the timeout. The socket is closed however it ends,
      // or it would keep this process alive after it printed its result.
      const s = createSocket(isIPv6(addr) ? 'udp6' : 'udp4');
      let resend: NodeJS.Timeout | undefined;
      const done = (err: Error | null, name?: string) => {
        clearInterval(resend);
        try {
          s.close();
        } catch {}
        finish(err, name);
      };
      clearTimeout(timer);
      const expire = setTimeout(() => done(new Error('timeout')), timeoutMs);
      s.on('message', (msg) => {
        clearTimeout(expire);
        done(null, msg.toString().split(' ')[0]);
      });
      s.on('error', (e) => {
        clearTimeout(expire);
        done(e);
      });
      const send = () =>
        s.connect(port, addr, () => {
          s.send('lab');
          resend = setInterval(() => s.send('lab'), 1000);
        });
      if (sourcePort === undefined) send();
      else s.bind(sourcePort, send);
    }
  });
}

async function stream(seconds: number): Promise<void> {
  const errors: string[] = [];
  let name = '';
  let sent = 0;
  let echoed = 0;
  let buf = '';
  const sock = connect({ host: addr, port });
  sock.on('error', (e) => errors.push(e.message));
  sock.on('data', (d) => {
    buf += d.toString();
    if (!name) {
      const m = /^HELLO (\S+)\n/.exec(buf);
      if (!m) return;
      name = m[1];
      buf = buf.slice(m[0].length);
      console.log(JSON.stringify({ hello: name }));
    }
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      if (buf.slice(0, nl) === `ping ${echoed}`) echoed++;
      else errors.push(`unexpected echo ${JSON.stringify(buf.slice(0, nl))}`);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end && errors.length === 0) {
    await sleep(50);
    if (!name) continue;
    sock.write(`ping ${sent}\n`);
    sent++;
  }
  // Let the last echoes arrive.
  for (let i = 0; i < 40 && echoed < sent; i++) await sleep(50);
  sock.destroy();
  console.log(JSON.stringify({ name, sent, echoed, errors }));
}

if (kind === 'stream') {
  await stream(Number(countArg));
  process.exit(0);
}

const answers: Record<string, number> = {};
const errors: string[] = [];
for (let i = 0; i < count; i++) {
  try {
    const name = await once(firstSourcePortArg === undefined ? undefined : Number(firstSourcePortArg) + i);
    answers[name] = (answers[name] ?? 0) + 1;
  } catch (e) {
    errors.push((e as Error).message);
  }
}
console.log(JSON.stringify({ answers, errors }));
