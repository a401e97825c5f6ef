/**
 * Sync benchmark, standby side (run in a lab director namespace): a real
 * SyncService writing into a real forwarder's BPF tables (loaded, not
 * attached), recording when sampled flows were applied. Commands on stdin:
 *   report <sample>    → R {count, applied: [[index, hrtime ns], ...]}
 *   present <n>        → N <how many of flows 0..n-1 are in the table>
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Keyring } from '../../core/auth/keyring.ts';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import type { DesiredState } from '../../forwarder/reconciler.ts';
import { BpfSyncTable } from '../../sync/bpf-table.ts';
import type { SyncEntry } from '../../sync/entries.ts';
import { SyncService } from '../../sync/service.ts';
import type { SyncTable } from '../../sync/table.ts';
import { BENCH_REALS, flowIndex, hrNowNs, MAX_FLOWS } from './flows.ts';

const { values } = parseArgs({
  options: { self: { type: 'string' }, peer: { type: 'string' }, sample: { type: 'string', default: '64' } },
});
const sample = Number(values.sample);
const key = Buffer.from(process.env.DSR_BENCH_KEY ?? '', 'hex');

const desired: DesiredState = {
  directorMac: '02:d5:00:00:01:01',
  services: [
    {
      vip: '198.18.0.200',
      protocol: 'tcp',
      port: 80,
      reals: BENCH_REALS.map((address, i) => ({ address, weight: 1, mac: `02:d5:00:00:03:0${i}` })),
    },
  ],
} as DesiredState;
const fwd = createForwarderInstance({ desired, load: { connEntries: 1 << 21 } });
const bpf = new BpfSyncTable({ tables: fwd.tables, reconciler: fwd.reconciler, view: fwd.store });
const present = new Uint8Array(MAX_FLOWS / 8);
let count = 0;
const applied: string[] = [];

/** Records what reaches the real table, then passes it on. */
class RecordingTable implements SyncTable {
  upsertMany(entries: readonly SyncEntry[]): void {
    bpf.upsertMany(entries);
    const now = hrNowNs();
    for (const e of entries) this.#mark(e, now);
  }
  upsert(e: SyncEntry): void {
    bpf.upsert(e);
    this.#mark(e, hrNowNs());
  }
  remove(e: SyncEntry): void {
    bpf.remove(e);
  }
  entries(): Iterable<SyncEntry> {
    return bpf.entries();
  }
  #mark(e: SyncEntry, now: bigint): void {
    const i = flowIndex(e);
    if (i < 0 || i >= MAX_FLOWS || present[i >> 3] & (1 << (i & 7))) return;
    present[i >> 3] |= 1 << (i & 7);
    count++;
    if (i % sample === 0) applied.push(`${i} ${now}`);
  }
}

const sync = new SyncService({
  nodeId: 2,
  bindAddress: values.self!,
  port: 9778,
  peers: [{ id: 1, address: values.peer!, port: 9778 }],
  keyring: new Keyring([{ id: 1, secret: key }], 1),
  table: new RecordingTable(),
  acceptEntries: () => true,
});
await sync.start();
console.log('READY');

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'report') {
    console.log(`R ${JSON.stringify({ count, unknown: bpf.unknown, applied, drops: sync.status().drops })}`);
  } else if (cmd === 'present') {
    const n = Math.min(Number(arg), MAX_FLOWS);
    let have = 0;
    for (let i = 0; i < n; i++) if (present[i >> 3] & (1 << (i & 7))) have++;
    console.log(`N ${have}`);
  } else if (cmd === 'quit') {
    void sync.stop().then(() => {
      fwd.destroy();
      process.exit(0);
    });
  }
});
