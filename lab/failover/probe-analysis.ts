/**
 * Pure analysis of a sequenced UDP probe run: what was sent (one send time per
 * sequence number), what came back (sequence number, arrival time, which real
 * server answered), and from that the figures of a failover trial.
 *
 * The outage is the longest gap between consecutive replies (issue 5), where
 * the run's first send opens the timeline and its last send closes it: a run
 * that never got an answer, or lost its path at the end, shows that as a gap
 * at the edge (`edge` says which), so an unfinished failover cannot pass for
 * a short one. A second view, by sequence numbers, gives the longest run of
 * unanswered probes and the send-time span it covers, which is free of the
 * receive side's scheduling noise.
 */

export interface ProbeReply {
  seq: number;
  /** Arrival time, ms, on the same clock as the send times. */
  at: number;
  /** The real server that answered. */
  server: string;
}

export interface ProbeInput {
  /** sendTimes[seq] = when probe `seq` was sent (ms). Sequence numbers are 0..n-1. */
  sendTimes: ArrayLike<number>;
  replies: readonly ProbeReply[];
}

export interface ProbeGap {
  ms: number;
  /** Start and end of the gap (ms, the input's clock). */
  fromAt: number;
  toAt: number;
  /** Sequence number of the reply before / after the gap (null at an edge). */
  fromSeq: number | null;
  toSeq: number | null;
  /** Real server that answered before / after the gap (null at an edge). */
  before: string | null;
  after: string | null;
  /** 'start': nothing answered before it; 'end': nothing answered after it. */
  edge: 'none' | 'start' | 'end' | 'both';
}

export interface LostRun {
  /** Consecutive unanswered probes. */
  count: number;
  firstSeq: number;
  /** Send time of the answered probe before the run to that of the one after (ms); edges use the run's own sends. */
  spanMs: number;
}

export interface ProbeSummary {
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Replies that arrived after a reply to a later probe. */
  reordered: number;
  /** First send to last send (ms). */
  durationMs: number;
  /** Achieved send rate (probes per second). */
  rateHz: number;
  /** Longest pause between two sends: the probe's own resolution. */
  maxSendGapMs: number;
  /** The outage: longest gap between replies. */
  gap: ProbeGap;
  longestLostRun: LostRun;
  /** Replies per real server. */
  servers: Record<string, number>;
  firstServer: string | null;
  lastServer: string | null;
}

function lostRunOf(sendTimes: ArrayLike<number>, answered: Uint8Array): LostRun {
  const n = sendTimes.length;
  let best: LostRun = { count: 0, firstSeq: -1, spanMs: 0 };
  let i = 0;
  while (i < n) {
    if (answered[i]) {
      i++;
      continue;
    }
    const first = i;
    while (i < n && !answered[i]) i++;
    const count = i - first;
    if (count > best.count) {
      const from = first > 0 ? sendTimes[first - 1] : sendTimes[first];
      const to = i < n ? sendTimes[i] : sendTimes[n - 1];
      best = { count, firstSeq: first, spanMs: to - from };
    }
  }
  return best;
}

export function analyzeProbe(input: ProbeInput): ProbeSummary {
  const { sendTimes, replies } = input;
  const sent = sendTimes.length;
  const answered = new Uint8Array(sent);
  const servers: Record<string, number> = {};
  let duplicates = 0;
  let reordered = 0;
  let highestSeq = -1;
  // Replies to unknown sequence numbers (not sent by this run) are ignored, not trusted.
  const firsts: ProbeReply[] = [];
  for (const r of replies) {
    if (!Number.isInteger(r.seq) || r.seq < 0 || r.seq >= sent) continue;
    if (answered[r.seq]) {
      duplicates++;
      continue;
    }
    answered[r.seq] = 1;
    if (r.seq < highestSeq) reordered++;
    else highestSeq = r.seq;
    servers[r.server] = (servers[r.server] ?? 0) + 1;
    firsts.push(r);
  }
  firsts.sort((a, b) => a.at - b.at || a.seq - b.seq);

  let maxSendGapMs = 0;
  for (let i = 1; i < sent; i++) maxSendGapMs = Math.max(maxSendGapMs, sendTimes[i] - sendTimes[i - 1]);
  const start = sent > 0 ? sendTimes[0] : 0;
  const end = sent > 0 ? sendTimes[sent - 1] : 0;

  let gap: ProbeGap;
  if (firsts.length === 0) {
    gap = {
      ms: end - start,
      fromAt: start,
      toAt: end,
      fromSeq: null,
      toSeq: null,
      before: null,
      after: null,
      edge: 'both',
    };
  } else {
    const head = firsts[0];
    gap = {
      ms: Math.max(0, head.at - start),
      fromAt: start,
      toAt: head.at,
      fromSeq: null,
      toSeq: head.seq,
      before: null,
      after: head.server,
      edge: 'start',
    };
    for (let i = 1; i < firsts.length; i++) {
      const a = firsts[i - 1];
      const b = firsts[i];
      if (b.at - a.at > gap.ms) {
        gap = {
          ms: b.at - a.at,
          fromAt: a.at,
          toAt: b.at,
          fromSeq: a.seq,
          toSeq: b.seq,
          before: a.server,
          after: b.server,
          edge: 'none',
        };
      }
    }
    const tail = firsts[firsts.length - 1];
    if (end - tail.at > gap.ms) {
      gap = {
        ms: end - tail.at,
        fromAt: tail.at,
        toAt: end,
        fromSeq: tail.seq,
        toSeq: null,
        before: tail.server,
        after: null,
        edge: 'end',
      };
    }
  }

  const received = firsts.length;
  const durationMs = end - start;
  return {
    sent,
    received,
    lost: sent - received,
    duplicates,
    reordered,
    durationMs,
    rateHz: durationMs > 0 ? ((sent - 1) * 1000) / durationMs : 0,
    maxSendGapMs,
    gap,
    longestLostRun: lostRunOf(sendTimes, answered),
    servers,
    firstServer: firsts[0]?.server ?? null,
    lastServer: firsts[firsts.length - 1]?.server ?? null,
  };
}
