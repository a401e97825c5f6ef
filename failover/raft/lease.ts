/**
 * The lease: how long a leader may hold the VIPs on the strength of a quorum's answers.
 *
 * The promise. A voter that accepts an append of the current term at its clock `r` grants no vote
 * and no pre-vote before `r + T` (T = `electionTimeoutMs`), except to a leadership transfer the
 * leader asked for after giving its lease up (./node.ts). A voter that (re)starts promises the same
 * from its start, as it cannot know whom it answered before. A leader makes the promise for itself
 * until it steps down, and from then for T more.
 *
 * The lease. The leader stamps each append with its clock `s` when it sends it; once a quorum of
 * voters (itself included) has answered appends stamped `s` or later, it holds the lease until
 * `s + L` on its own clock.
 *
 * Why no successor overlaps. Clocks tick at a rate within [1 − ρ, 1 + ρ] of real time (ρ =
 * `maxDriftRatio`; CLOCK_MONOTONIC, which NTP slews but never steps). Let S be the real time the
 * leader read `s`. Every voter of that quorum answered after S, so none of them votes for another
 * before S + T / (1 + ρ) in real time. Any successor needs the vote of one of them (quorums
 * intersect), so no successor is elected, let alone holds a lease, before S + T / (1 + ρ). The
 * leader's `s + L` comes at most L / (1 − ρ) of real time after S. Hence the inequality:
 *
 *     L / (1 − ρ) + M  <  T / (1 + ρ),   i.e.  L = T · (1 − ρ) / (1 + ρ) − M  (rounded down)
 *
 * where M (`releaseMarginMs`) is the time the VIPs may take to go after `s + L` (the driver's
 * wake-up and the address removal). The same argument with leases in Gray & Cheriton, "Leases: An
 * Efficient Fault-Tolerant Mechanism for Distributed File Cache Consistency" (SOSP 1989), §2;
 * Raft's use of it for reads in Ongaro's thesis §6.4.1; the promise is etcd raft's check-quorum
 * "in lease" vote refusal, made a function of time rather than of ticks.
 *
 * The drift bound assumed by default, ρ = 0.005 (5,000 ppm), is ten times the most the kernel lets
 * NTP slew CLOCK_MONOTONIC (MAXFREQ, 500 ppm, adjtimex(2)); quartz is within 100 ppm.
 */
import { DsrError } from '../../core/errors.ts';

export const DEFAULT_MAX_DRIFT_RATIO = 0.005;

export function leaseDurationMs(
  electionTimeoutMs: number,
  maxDriftRatio: number,
  releaseMarginMs: number,
): number {
  const lease = Math.floor((electionTimeoutMs * (1 - maxDriftRatio)) / (1 + maxDriftRatio) - releaseMarginMs);
  if (!(maxDriftRatio >= 0 && maxDriftRatio < 1) || !(lease > 0)) {
    throw new DsrError(
      'E_ELECTION_INPUT',
      'the election timeout leaves no lease after the drift and release margins',
      {
        electionTimeoutMs,
        maxDriftRatio,
        releaseMarginMs,
      },
    );
  }
  return lease;
}

/**
 * The lease's start: the newest stamp that `quorum` voters have answered (the leader counts its own
 * promise with `now`). -Infinity when fewer than `quorum` have answered in this term.
 */
export function quorumStamp(now: number, peerStamps: Iterable<number>, quorum: number): number {
  const stamps = [now, ...peerStamps].sort((a, b) => b - a);
  return stamps.length >= quorum ? (stamps[quorum - 1] as number) : Number.NEGATIVE_INFINITY;
}
