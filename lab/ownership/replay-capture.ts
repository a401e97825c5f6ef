/**
 * Sends a recorded stream of datagrams again, from the address and port they came from: the
 * "replayed capture" of issue 21 (an attacker on the segment who recorded a master's adverts and
 * plays them back once that master is dead, to keep its backup from taking over).
 *
 * Run in the namespace of the director that sent them (its address is still there after its
 * daemon died). The datagrams go out once, with their recorded spacing.
 *
 * Usage: replay-capture.ts --pcap FILE --from 198.18.0.10 --port 112 --to 198.18.0.11
 * Prints "REPLAYING" when the first datagram is out, then one JSON line: {sent, ms}.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sleep } from '../wait.ts';
import { udpPayloads } from './pcap.ts';

const { values } = parseArgs({
  options: {
    pcap: { type: 'string' },
    from: { type: 'string' },
    port: { type: 'string' },
    to: { type: 'string' },
  },
});
if (!values.pcap || !values.from || !values.port || !values.to) {
  throw new Error('--pcap, --from, --port and --to are required');
}
const port = Number(values.port);
const recorded = udpPayloads(readFileSync(values.pcap));
if (recorded.length === 0) throw new Error(`${values.pcap} holds no UDP datagrams`);

const socket = createSocket('udp4');
await new Promise<void>((resolve, reject) => {
  socket.once('error', reject);
  socket.bind(port, values.from, () => resolve());
});
const send = (payload: Buffer): Promise<void> =>
  new Promise((resolve, reject) =>
    socket.send(payload, port, values.to, (err) => (err ? reject(err) : resolve())),
  );

const t0 = performance.now();
let sent = 0;
for (const d of recorded) {
  await sleep(Math.max(0, t0 + d.atMs - performance.now()));
  await send(d.payload);
  if (sent++ === 0) console.log('REPLAYING');
}
socket.close();
console.log(JSON.stringify({ sent, ms: Math.round(performance.now() - t0) }));
