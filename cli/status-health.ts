/**
 * What makes `dsrctl status` exit non-zero, so it can serve as a health probe (a monitoring
 * check, a load balancer in front of the directors' own APIs, a deploy script): the daemon not
 * running (starting or stopping), a part not running, a VIP group in Fault, a quorum-mode voter
 * that hears neither a majority of the voters nor a leader. A backup is healthy: it is doing its job.
 * Pure.
 */
import type { DaemonStatus } from '../admin/catalogue/status.ts';
import { quorumOf } from './format/quorum.ts';

/** The reasons this director is not healthy, in words; [] when it is. */
export function statusProblems(s: DaemonStatus): string[] {
  const problems: string[] = [];
  if (s.state !== 'running') problems.push(`the daemon is ${s.state}`);
  for (const p of s.parts) {
    if (p.state !== 'running') problems.push(`part ${p.name} is ${p.state}${p.error ? `: ${p.error}` : ''}`);
  }
  for (const g of s.groups) {
    if (g.role === 'fault')
      problems.push(`VIP group ${g.name} is in Fault${g.reason ? ` (${g.reason})` : ''}`);
  }
  if (quorumOf(s.parts)?.quorum === false)
    problems.push('no quorum: this voter hears neither a majority of the voters nor a leader');
  return problems;
}
