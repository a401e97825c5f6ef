/**
 * The election's results: `failover` (a planned handover), and the election part's thread and
 * advert-keeper status that `dsrctl status` shows (failover/thread/advert-keeper.ts).
 */

export interface FailoverResult {
  group: string;
  from: string;
  to: string;
  ok: boolean;
  /** 'completed', or why it failed (timeout, target-lost, not-in-sync, ...). */
  outcome: string;
  ms: number;
}

/** Sent once the election has started the handover. */
export interface FailoverProgress {
  started: true;
  to: string;
}

/** What the advert keeper (the thread that sends adverts while the election thread stalls) did. */
export interface AdvertKeeperStatus {
  running: boolean;
  electionCpu: number | null;
  keeperCpu: number | null;
  scheduling: string | null;
  /** Why the keeper does not run, or what it could not set up. */
  problems: readonly string[];
  covers: number;
  advertsSent: number;
  longestSilenceMs: number;
  gaveUp: number;
  sendErrors: number;
}

/** In the election part's status, under `election` (besides its drop and transport counters). */
export interface ElectionThreadStatus {
  thread: { scheduling: string; schedulingError: string | null };
  keeper: AdvertKeeperStatus | null;
  /** Over all groups: stalls after which peers were re-learned, and stalls the keeper covered. */
  stalls: { relearned: number; covered: number };
  /** `dsrctl maintenance`: on, since when. */
  maintenance: { on: boolean; since: string | null };
}

/** `dsrctl maintenance on|off`: where this director stands after it. */
export interface MaintenanceResult {
  on: boolean;
  /** When maintenance was turned on (ISO time); null when off. */
  since: string | null;
  /** Per VIP group: what was done ('handed over to lb2', 'backup', 'priority back to 150', ...). */
  groups: { group: string; ok: boolean; action: string }[];
}
