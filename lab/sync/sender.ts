/**
 * Sync benchmark, active side (run in a lab director namespace): publishes
 * synthetic new flows at a target rate through a real SyncService and reports
 * progress. Lines on stdout:
 *   READY
 *   P <published> <hrtime ns>          every 10 ms
 *   DONE {json}                         when the run ends and the peer acknowledged
 *   S <index> <hrtime ns>               publish time of sampled flows
 */
import { parseArgs } from 'node:util';
import { Keyring } from '../../core/auth/keyring.ts';
import { SyncService } from '../../sync/service.ts';
import { MemorySyncTable } from '../../sync/table.ts';
import { sleep } from '../wait.ts';
import { flowEntry, hrNowNs } from './flows.ts';

const { values } = parseArgs({
  options: {
    self: { type: 'string' },
    peer: { type: 'string' },
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '3' },
    sample: { type: 'string', default: '64' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const sample = Number(values.sample);
const key = Buffer.from(process.env.DSR_BENCH_KEY ?? '', 'hex');

const table = new MemorySyncTable();
const sync = new SyncService({
  nodeId: 1,
  bindAddress: values.self!,
  port: 9778,
  peers: [{ id: 2, address: values.peer!, port: 9778 }],
  keyring: new Keyring([{ id: 1, secret: key }], 1),
  table,
  acceptEntries: () => false,
});
await sync.start();
console.log('READY');
// Let the standby's bulk request (of an empty table) complete first.
const t0wait = Date.now();
while (!sync.status().peers[0].sending.bulksServed && Date.now() - t0wait < 5000) await sleep(5);
await sleep(100);

let published = 0;
const samples: string[] = [];
const start = hrNowNs();
const endNs = start + BigInt(Math.round(seconds * 1e9));
let lastProgress = 0n;

await new Promise<void>((resolve) => {
  const step = () => {
    const now = hrNowNs();
    const due = Math.min(Math.floor((Number(now - start) / 1e9) * rate), Math.floor(seconds * rate));
    if (due > published) {
      const batch = [];
      for (let i = published; i < due; i++) {
        const e = flowEntry(i);
        batch.push(e);
        if (i % sample === 0) samples.push(`S ${i} ${now}`);
      }
      sync.publish(batch);
      published = due;
    }
    if (now - lastProgress >= 10_000_000n) {
      console.log(`P ${published} ${now}`);
      lastProgress = now;
    }
    if (now >= endNs) resolve();
    // A 1 ms timer, not a spin: the generator must not eat the core the standby needs.
    else setTimeout(step, 1);
  };
  step();
});
const publishSeconds = Number(hrNowNs() - start) / 1e9;
const drainStart = Date.now();
while (Date.now() - drainStart < 5000) {
  const s = sync.status().peers[0].sending;
  if (s.inFlight === 0 && s.queued === 0) break;
  await sleep(5);
}
const st = sync.status();
console.log(samples.join('\n'));
console.log(
  `DONE ${JSON.stringify({
    published,
    publishSeconds,
    bytesOut: st.bytesOut,
    datagramsOut: st.datagramsOut,
    entryBytes: st.peers[0].sending.bytesSent,
    retransmits: st.peers[0].sending.retransmits,
    inFlight: st.peers[0].sending.inFlight,
  })}`,
);
await sync.stop();
