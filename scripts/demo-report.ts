/**
 * What the demo prints at the end (scripts/demo.ts): who was master when, from the directors' own
 * logs (dsrd logs every election transition with its time and reason), and the outage the UDP
 * probe measured. Pure: lines and figures in, text out.
 */

export interface MasterChange {
  /** Epoch ms. */
  at: number;
  director: string;
  /** The role the director went to, or 'killed'. */
  to: string;
  reason: string;
}

/** The election transitions in one director's pino log lines ("VIP group web: backup -> master"). */
export function masterChanges(director: string, lines: readonly string[]): MasterChange[] {
  const out: MasterChange[] = [];
  for (const line of lines) {
    if (!line.includes('"msg":"VIP group ')) continue;
    try {
      const l = JSON.parse(line) as { time?: number | string; to?: string; reason?: string };
      const at = typeof l.time === 'string' ? Date.parse(l.time) : l.time;
      if (at !== undefined && Number.isFinite(at) && typeof l.to === 'string') {
        out.push({ at, director, to: l.to, reason: l.reason ?? '' });
      }
    } catch {
      // not a log line of ours
    }
  }
  return out;
}

/** One line per change that matters (into or out of master, and kills), in time order. */
export function formatMasters(changes: readonly MasterChange[], t0: number): string[] {
  return [...changes]
    .filter(
      (c) =>
        c.to === 'master' ||
        c.to === 'killed' ||
        c.reason === 'handover' ||
        c.reason === 'higher-priority-master',
    )
    .sort((x, y) => x.at - y.at)
    .map((c) => {
      const when = `${((c.at - t0) / 1000).toFixed(3).padStart(8)} s`;
      const what = c.to === 'killed' ? 'dsrd killed (kill -9)' : `${c.to.padEnd(7)} (${c.reason})`;
      return `${when}  ${c.director}  ${what}`;
    });
}

/** The figures of lab/failover/udp-probe.ts this demo reads. */
interface ProbeResult {
  sent: number;
  received: number;
  lost: number;
  gap: { ms: number; before: string | null; after: string | null; edge: string };
  /** The probe's own longest pause between sends: it cannot see a gap shorter than that. */
  maxSendGapMs: number;
  intervalMs: number;
}

export interface ProbeOutcome {
  outageMs: number;
  text: string;
}

export function probeOutcome(r: ProbeResult): ProbeOutcome {
  const g = r.gap;
  const moved =
    g.before !== null && g.after !== null && g.before !== g.after ? ` (${g.before} → ${g.after})` : '';
  const edge = g.edge === 'none' ? '' : ` at the ${g.edge} of the run`;
  // A loaded machine can pause the probe itself: say so, since such a pause looks like a gap.
  const paused =
    r.maxSendGapMs > 3 * r.intervalMs
      ? ` (the probe itself paused up to ${Math.round(r.maxSendGapMs)} ms)`
      : '';
  return {
    outageMs: g.ms,
    text: `longest gap ${Math.round(g.ms)} ms${edge}${moved}; ${r.lost} of ${r.sent} probes unanswered${paused}`,
  };
}
