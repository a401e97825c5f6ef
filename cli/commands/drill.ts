/**
 * `dsrctl drill [--group G] [--to NODE] [--back] [--json]`: a failover drill run by the daemon of
 * this director (daemon/drill/part.ts): preflight, planned handover, verification, optional
 * hand back. The timeline shows live; then the checks and the verdict. Exit 0 pass, 1 fail, 2 usage.
 */

import type { DrillCheck, DrillProgress, DrillReport, TimelineEntry } from '../../admin/catalogue/drill.ts';
import { EXIT_FAILED } from '../../core/exit.ts';
import type { CommandModule } from '../program.ts';

const MARK: Record<DrillCheck['status'], string> = { pass: 'ok  ', fail: 'FAIL', warn: 'warn' };

export function formatStep(e: TimelineEntry): string {
  return `  ${e.at.slice(11, 23)}  +${String(e.ms).padStart(6)} ms  ${e.step}\n`;
}

function checks(list: readonly DrillCheck[]): string {
  const width = Math.max(0, ...list.map((c) => c.name.length));
  return list.map((c) => `  ${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}\n`).join('');
}

export function formatDrillReport(r: DrillReport, withTimeline: boolean): string {
  let out = withTimeline
    ? `drill of ${r.group} from ${r.director} to ${r.peer}${r.back ? ' and back' : ''}\n`
    : '';
  if (withTimeline) out += r.timeline.map(formatStep).join('');
  out += `\npreflight\n${checks(r.preflight)}`;
  r.legs.forEach((l, i) => {
    const how = l.moved ? `${l.how} in ${l.ms} ms` : `${l.how} did not happen: ${l.outcome}`;
    out += `\nleg ${i + 1}: ${l.from} → ${l.to} (${how})\n${checks(l.checks)}`;
  });
  const f = r.flows;
  if (f.before !== null) {
    const margin = Math.round(f.marginMs / 1000);
    out += `\nflows: ${f.before.live} live on ${r.director} (${f.before.longLived} with more than ${margin} s left)`;
    if (f.peer !== null) out += `, ${f.peer.conns} on ${r.peer}`;
    if (f.after !== null) out += `, ${f.after.live} back on ${r.director}`;
    out += '\n';
  }
  return `${out}\n${r.summary}\n`;
}

export const drillCommand: CommandModule = (program, ctx) => {
  program
    .command('drill')
    .description(
      'failover drill: preflight, planned handover to the peer, verification (VIP, announcements, ' +
        'forwarding, flows carried over), optional hand back; exit 0 pass, 1 fail',
    )
    .option('--group <name>', 'VIP group (needed when there are several)')
    .option('--to <node>', 'peer that takes over (needed when there are several)')
    .option('--back', 'hand the group back to this director afterwards, and verify that too')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { group?: string; to?: string; back?: boolean; json?: boolean }) => {
      const { group, to } = opts;
      const json = opts.json === true;
      let live = false;
      const onEvent = ({ step }: DrillProgress): void => {
        if (json) return;
        if (!live) ctx.io.out('drill timeline\n');
        live = true;
        ctx.io.out(formatStep(step));
      };
      const r = await ctx.call('drill', { group, to, back: opts.back === true }, onEvent);
      ctx.print(json, r, () => formatDrillReport(r, !live));
      if (!r.ok) ctx.setExit(EXIT_FAILED);
    });
};
