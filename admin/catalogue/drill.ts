/**
 * The result of `drill` (daemon/drill/): the report of a failover drill, and the timeline steps it
 * streams as progress events meanwhile.
 */

/** warn: could not be judged (e.g. nothing to probe); it does not fail the drill. */
export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface DrillCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface TimelineEntry {
  /** Wall-clock time, ISO 8601. */
  at: string;
  /** Since the drill started (monotonic). */
  ms: number;
  step: string;
}

/** Each timeline entry as it happens. */
export interface DrillProgress {
  step: TimelineEntry;
}

/** Where a drill ended: a failed preflight changes nothing; later phases have moved the VIPs. */
export type DrillPhase = 'preflight' | 'handover' | 'verify' | 'hand-back' | 'verify-back' | 'done';

export interface DrillLeg {
  from: string;
  to: string;
  /** A planned handover (make-before-break), or our own preemption once the hold is released. */
  how: 'handover' | 'preemption';
  /** The move itself happened (the checks say whether it is verified). */
  moved: boolean;
  outcome: string;
  /** How long the move took, ms (null when it did not happen). */
  ms: number | null;
  checks: DrillCheck[];
}

/** Live flows in a director's connection table, and how many have more than a given time left. */
export interface FlowCensus {
  live: number;
  longLived: number;
}

/** A peer's whole tables as its bulk answer carried them (daemon/drill/tally.ts). */
export interface TableTally {
  conns: number;
  /** Connection entries with more than the census margin left to live. */
  longLived: number;
  persist: number;
}

export interface DrillReport {
  group: string;
  /** This director, where the drill runs (the master when it starts). */
  director: string;
  peer: string;
  back: boolean;
  ok: boolean;
  stoppedAt: DrillPhase;
  startedAt: string;
  durationMs: number;
  preflight: DrillCheck[];
  legs: DrillLeg[];
  flows: {
    /**
     * A flow with less than this left to live may legitimately be gone on the other director by
     * the time it is counted there: the census only counts flows with more (daemon/drill/run.ts).
     */
    marginMs: number;
    /** Our table before the handover. */
    before: FlowCensus | null;
    /** The peer's table after it took over. */
    peer: TableTally | null;
    /** Our table after the hand back. */
    after: FlowCensus | null;
  };
  timeline: TimelineEntry[];
  summary: string;
}
