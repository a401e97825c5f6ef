/**
 * Worker thread of the forwarder part: the walks over whole tables (expired-entry sweep, flow
 * counts, `dsrctl conns`) run here, so a million-entry table never stalls the daemon's event loop
 * (the election's timers live there). The maps are the parent's: file descriptors are shared by
 * the threads of a process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ParsedArgsOf } from '../../admin/catalogue/commands.ts';
import { BpfMap } from '../bpf-map.ts';
import type { ForwarderConfig } from '../layout.ts';
import { FlowTables } from '../tables.ts';
import { censusTables, listTables, type RealNames, type TableCounts } from './flows.ts';

export interface TableWorkerData {
  conns4: number;
  conns6: number;
  persist: number;
}

export type TableRequest =
  | { id: number; op: 'tick'; cfg: ForwarderConfig; persistTimeouts: Map<number, bigint> }
  | { id: number; op: 'conns'; cfg: ForwarderConfig; names: RealNames; args: ParsedArgsOf<'conns'> }
  | { id: number; op: 'census'; cfg: ForwarderConfig; minRemainingNs: bigint };

export type TableReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

import { setThreadNice } from '../../core/kernel/sched.ts';

setThreadNice(19);
const fds = workerData as TableWorkerData;
const tables = new FlowTables({
  conns4: new BpfMap('conns4', fds.conns4),
  conns6: new BpfMap('conns6', fds.conns6),
  persist: new BpfMap('persist', fds.persist),
});

parentPort?.on('message', (req: TableRequest) => {
  let reply: TableReply;
  try {
    const now = process.hrtime.bigint();
    if (req.op === 'tick') {
      const started = performance.now();
      // One walk per table sweeps and counts what stays.
      const counts: TableCounts = {
        open: new Map(),
        closing: new Map(),
        persistent: new Map(),
        total: 0,
        persistentTotal: 0,
      };
      const conns = tables.sweepConns(req.cfg, now, counts);
      // A service that is gone has no timeout: its persistence entries go.
      const persist = tables.sweepPersist(
        (svcId) => req.persistTimeouts.get(svcId) ?? null,
        now,
        counts.persistent,
      );
      for (const m of [counts.open, counts.closing]) for (const n of m.values()) counts.total += n;
      counts.persistentTotal = persist.kept;
      const walkMs = performance.now() - started;
      reply = {
        id: req.id,
        ok: true,
        result: { swept: { conns, persist: persist.removed }, counts, walkMs },
      };
    } else if (req.op === 'census') {
      reply = { id: req.id, ok: true, result: censusTables(tables, req.cfg, now, req.minRemainingNs) };
    } else {
      reply = { id: req.id, ok: true, result: listTables(tables, req.cfg, req.names, req.args, now) };
    }
  } catch (err) {
    reply = { id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(reply);
});
