/**
 * The election part's thread line in `dsrctl status`: how the election thread is scheduled, and
 * what its advert keeper has done (ElectionThreadStatus). A part's status is its own JSON in the
 * status result, so every field is checked before it is shown.
 */
import type { AdvertKeeperStatus, ElectionThreadStatus } from '../../admin/catalogue/election.ts';

function electionOf(
  parts: readonly { name: string; status?: unknown }[],
): Partial<ElectionThreadStatus> | null {
  const status = parts.find((p) => p.name === 'election')?.status;
  if (typeof status !== 'object' || status === null) return null;
  const election = (status as { election?: unknown }).election;
  return typeof election === 'object' && election !== null
    ? (election as Partial<ElectionThreadStatus>)
    : null;
}

function keeperText(k: AdvertKeeperStatus | null | undefined): string {
  if (k === null || k === undefined) return 'keeper not reported';
  const problems = k.problems.length === 0 ? '' : ` (${k.problems.join('; ')})`;
  if (!k.running) return `keeper NOT RUNNING${problems}`;
  const silence = k.covers === 0 ? '' : `, longest silence ${k.longestSilenceMs} ms`;
  const errors = k.sendErrors === 0 ? '' : `, ${k.sendErrors} send errors`;
  return (
    `keeper on CPU ${k.keeperCpu ?? '-'}: ${k.covers} covers, ${k.advertsSent} adverts${silence}, ` +
    `limit reached ${k.gaveUp}${errors}${problems}`
  );
}

/** One line, or '' when the daemon runs no election (a single director). */
export function electionLine(parts: readonly { name: string; status?: unknown }[]): string {
  const e = electionOf(parts);
  if (e === null || e.thread === undefined) return '';
  const refused = e.thread.schedulingError ? ` (asked for more: ${e.thread.schedulingError})` : '';
  const cpu = e.keeper?.electionCpu ?? null;
  const where = cpu === null ? '' : ` on CPU ${cpu}`;
  const stalls =
    e.stalls === undefined ? '' : `; stalls ${e.stalls.relearned} relearned, ${e.stalls.covered} covered`;
  const maintenance =
    e.maintenance?.on === true
      ? `MAINTENANCE on since ${e.maintenance.since ?? '?'}: this director stays backup (dsrctl maintenance off)\n`
      : '';
  return `${maintenance}Election thread ${e.thread.scheduling ?? 'unknown'}${where}${refused}; ${keeperText(e.keeper)}${stalls}\n`;
}
