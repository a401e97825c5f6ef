/**
 * A datagram flood at a UDP port, at a set rate: the "advert flood from a non-peer" of issue 21
 * (what an attacker on the segment, or a misconfigured sender, costs the election thread).
 *
 * Node's dgram sends about 50-70k datagrams/s on the lab's CPUs (one libuv request each); this
 * calls sendto(2) directly on a non-blocking socket through koffi, paced against the clock in a
 * busy loop, so the rate asked for is the rate sent. A full socket buffer (EAGAIN) is counted and
 * the datagram tried again on the next turn.
 *
 * Usage: flood.ts --to 198.18.0.11 --port 112 --rate 100000 --count 300000 [--bytes 120]
 * Prints one JSON line: {sent, ms, rate, blocked}.
 */
import { parseArgs } from 'node:util';
import { closeFd, openSocket, SOCK_DGRAM, sendTo, WOULD_BLOCK } from '../../core/kernel/libc.ts';
import { parseIp } from '../../core/net/ip.ts';

const AF_INET = 2;

const { values } = parseArgs({
  options: {
    to: { type: 'string' },
    port: { type: 'string' },
    rate: { type: 'string', default: '100000' },
    count: { type: 'string', default: '300000' },
    bytes: { type: 'string', default: '120' },
  },
});
if (!values.to || !values.port) throw new Error('--to and --port are required');
const rate = Number(values.rate);
const count = Number(values.count);

const to = Buffer.alloc(16); // struct sockaddr_in
to.writeUInt16LE(AF_INET, 0);
to.writeUInt16BE(Number(values.port), 2);
parseIp(values.to).bytes.copy(to, 4);
const body = Buffer.alloc(Number(values.bytes), 0x5a);

const fd = openSocket(AF_INET, SOCK_DGRAM, 0);
let sent = 0;
let blocked = 0;
const t0 = performance.now();
try {
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) * rate) / 1000));
    while (sent < due) {
      if (sendTo(fd, body, to) === WOULD_BLOCK) {
        blocked++;
        break;
      }
      sent++;
    }
  }
} finally {
  closeFd(fd);
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ sent, ms: Math.round(ms), rate: Math.round(sent / (ms / 1000)), blocked }));
