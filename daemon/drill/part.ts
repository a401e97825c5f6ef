/**
 * `dsrctl drill [--group G] [--to NODE] [--back]` as a daemon part: the admin command that runs a
 * failover drill (drill-run.ts) on this director, one at a time, streaming its timeline as progress
 * events and answering with the report. It starts after the election (the last part) and stops
 * first, aborting a drill in progress (which then reports where it stopped). It reads the config
 * when a drill starts, so it has nothing to apply on a reload.
 */
import { CATALOGUE, type ParsedArgsOf } from '../../admin/catalogue/commands.ts';
import type { DrillProgress, DrillReport } from '../../admin/catalogue/drill.ts';
import type { Config } from '../../config/index.ts';
import { DsrError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { AlertsPart } from '../alerts/part.ts';
import type { ElectionPart } from '../election/part.ts';
import type { ForwarderPart } from '../forwarder/part.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import type { SyncPart } from '../sync/part.ts';
import type { VipPart } from '../vip/part.ts';
import { raiseDrillResult } from './alert.ts';
import { DRILL_TIMING, type DrillTiming, runDrill } from './run.ts';
import type { DrillClock, DrillNet } from './types.ts';
import { drillSetup, electionView, forwarderView, kernelNet, realClock, syncView, vipView } from './views.ts';

export interface DrillPartOptions {
  election: ElectionPart;
  sync: SyncPart;
  forwarder: ForwarderPart;
  vip: VipPart;
  /** Where drill_result is raised. */
  alerts?: Pick<AlertsPart, 'emit'>;
  /** The kernel side and the clock; the real ones by default. */
  net?: DrillNet;
  clock?: DrillClock;
  timing?: DrillTiming;
}

export class DrillPart implements DaemonPart {
  readonly name = 'drill';
  readonly #o: DrillPartOptions;
  readonly #cleanup: (() => void)[] = [];
  #running: AbortController | null = null;
  #last: { group: string; ok: boolean; at: string; summary: string } | null = null;
  #log: Logger | undefined;

  constructor(options: DrillPartOptions) {
    this.#o = options;
  }

  start(ctx: PartContext): void {
    this.#log = ctx.log;
    this.#cleanup.push(
      ctx.admin.handle(CATALOGUE.drill, (args, cmd) =>
        this.#drill(ctx.currentConfig(), args, cmd.signal, cmd.progress),
      ),
    );
  }

  async #drill(
    config: Config,
    args: ParsedArgsOf<'drill'>,
    signal: AbortSignal,
    progress: (event: DrillProgress) => void,
  ): Promise<DrillReport> {
    const groups = config.vipGroups.map((g) => g.name);
    const group = args.group ?? (groups.length === 1 ? groups[0] : undefined);
    if (group === undefined) {
      throw new DsrError('E_USAGE', `name the VIP group with --group (${groups.join(', ')})`);
    }
    const peers = config.peers.map((p) => p.id);
    const peer = args.to ?? (peers.length === 1 ? peers[0] : undefined);
    if (peer === undefined) {
      throw new DsrError(
        'E_USAGE',
        peers.length === 0
          ? 'this director has no peers: there is nobody to hand over to'
          : `name the peer with --to (${peers.join(', ')})`,
      );
    }
    const setup = drillSetup(config, group, peer);
    if (this.#running !== null) throw new DsrError('E_ADMIN_REQUEST', 'a drill is already running here');
    const abort = new AbortController();
    const stop = () => abort.abort();
    signal.addEventListener('abort', stop, { once: true });
    this.#running = abort;
    try {
      const o = this.#o;
      const report = await runDrill(
        {
          election: electionView(o.election, config.node.id),
          sync: syncView(o.sync, () => config),
          forwarder: forwarderView(o.forwarder),
          vips: vipView(o.vip),
          net: o.net ?? kernelNet,
          clock: o.clock ?? realClock,
        },
        {
          setup,
          peer,
          back: args.back,
          signal: abort.signal,
          onStep: (step) => {
            // The journal keeps the timeline too: the operator's dsrctl may be gone.
            this.#log?.info({ group, peer, ms: step.ms }, `drill: ${step.step}`);
            progress({ step });
          },
        },
        o.timing ?? DRILL_TIMING,
      );
      this.#last = { group, ok: report.ok, at: report.startedAt, summary: report.summary };
      this.#log?.[report.ok ? 'info' : 'warn'](
        { group, peer, ok: report.ok, stoppedAt: report.stoppedAt, durationMs: report.durationMs },
        `drill ${report.summary}`,
      );
      raiseDrillResult(o.alerts, report);
      return report;
    } finally {
      signal.removeEventListener('abort', stop);
      this.#running = null;
    }
  }

  stop(): void {
    this.#running?.abort();
    for (const f of this.#cleanup.splice(0).reverse()) f();
  }

  status(): unknown {
    return { running: this.#running !== null, last: this.#last };
  }
}
