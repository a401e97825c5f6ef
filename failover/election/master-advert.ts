/**
 * What a director does with an advert from a peer in state Master: RFC 5798 §6.4.2 (Backup) and
 * §6.4.3 (Master), plus preempt_delay, sync gating, the preemption hold, the make-before-break
 * overlap and split-brain reporting.
 */
import type { GroupCore } from './group-core.ts';
import type { AdvertMessage, SenderStatus } from './messages.ts';
import type { OutputBuilder } from './output.ts';
import { skewTimeMs } from './timing.ts';

export function onMasterAdvert(core: GroupCore, now: number, m: AdvertMessage, out: OutputBuilder): void {
  const firstMasterHeard = !core.heardMaster;
  core.heardMaster = true;
  // Whichever rule applies below, this peer is the master we would be taking over from.
  if (core.state !== 'master') core.formerMaster = m.from;
  if (core.state === 'fault') {
    core.masterId = m.priority > 0 ? m.from : null;
  } else if (core.state === 'backup') {
    backupHearsMaster(core, now, m);
  } else if (core.state === 'master') {
    masterHearsMaster(core, now, m, out, firstMasterHeard);
  }
}

/**
 * Two directors started together each end their first listen (§6.4.1, one master-down interval)
 * with no master heard, claim at the same moment, and meet as masters: a start-up race the rules
 * settle at once, not a split brain. It is one when this is the first master advert we hear since
 * we started and we became master within a master-down interval; two masters that met after
 * either had been master for longer (a partition that healed) are a split brain.
 */
function startupRace(core: GroupCore, now: number, firstMasterHeard: boolean): boolean {
  return firstMasterHeard && core.masterSince !== null && now - core.masterSince <= core.masterDownIntervalMs;
}

function backupHearsMaster(core: GroupCore, now: number, m: AdvertMessage): void {
  if (core.relearning) {
    // Re-learning after a stall (group-core.ts #selfFence): there is a master. Whatever the rules
    // below decide, a preemption waits a full master-down interval, as from any backup.
    core.relearning = false;
    core.masterDownAt = now + core.masterDownIntervalMs;
  }
  if (m.priority === 0) {
    // §6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the Master_Down_Timer to Skew_Time".
    core.masterDownAt = now + skewTimeMs(core.effectivePriority, core.masterAdverIntervalMs);
    core.masterId = null;
    core.resigned = m.from;
    core.discarding = null;
    core.preemptSince = null;
    return;
  }
  core.resigned = null;
  core.masterId = m.from;
  if (mayPreempt(core, now, m)) {
    // §6.4.2 "Otherwise: Discard the ADVERTISEMENT": our timer runs out and we take over.
    core.discarding = m.from;
    return;
  }
  core.followMaster(now, m);
}

/**
 * §6.4.2 accepts an advert when "Preempt_Mode is False, or ... the Priority in the ADVERTISEMENT
 * is greater than or equal to the local Priority": equal priority never preempts. We also do not
 * preempt while held (after a resign or handover), while not in sync, or before preempt_delay has
 * passed since we first could.
 */
function mayPreempt(core: GroupCore, now: number, m: SenderStatus): boolean {
  if (core.preemptHold && core.preemptHoldUntil !== null && now >= core.preemptHoldUntil) {
    core.preemptHold = false;
    core.preemptHoldUntil = null;
  }
  const eligible = core.preempt && !core.preemptHold && core.syncReady && m.priority < core.effectivePriority;
  if (!eligible) {
    core.preemptSince = null;
    return false;
  }
  core.preemptSince ??= now;
  return now - core.preemptSince >= core.preemptDelayMs;
}

function masterHearsMaster(
  core: GroupCore,
  now: number,
  m: AdvertMessage,
  out: OutputBuilder,
  firstMasterHeard: boolean,
): void {
  const peer = m.from;
  // Make-before-break overlap: the master we just took over from steps down when it hears us.
  if (core.yielding?.peer === peer && now < core.yielding.until) return;
  if (m.priority === 0) {
    // §6.4.3: "Send an ADVERTISEMENT; Reset the Adver_Timer to Advertisement_Interval".
    core.advertAt = now;
    return;
  }
  if (core.handover?.target === peer) {
    out.alert({ kind: 'handover-completed', target: peer });
    core.handover = null;
    core.leaveMaster(now, 'backup', 'handover', out);
    core.preemptHold = true;
    core.followMaster(now, m);
    return;
  }
  const priority = core.effectivePriority;
  // §6.4.3: higher priority wins; on equal priority, the higher node id (our stand-in for the
  // "primary IPvX Address" comparison).
  const theyWin = m.priority > priority || (m.priority === priority && peer > core.nodeId);
  if (theyWin) {
    // A live backup with a higher priority preempting is the rules at work (equal priorities never
    // preempt, §6.4.2); any other master we did not know of is a split brain.
    const preempted = m.priority > priority && core.peers.wasRecentlyBackup(peer, now);
    const race = !preempted && startupRace(core, now, firstMasterHeard);
    if (!preempted && !race) {
      core.counters.splitBrains++;
      out.alert({ kind: 'split-brain-detected', peer, winner: peer });
      out.alert({ kind: 'split-brain-resolved', peer });
    }
    core.failHandover('preempted', out);
    const reason = preempted ? 'higher-priority-master' : race ? 'startup-race-lost' : 'split-brain-lost';
    core.leaveMaster(now, 'backup', reason, out);
    core.followMaster(now, m);
    return;
  }
  // We win. Tell the other master at once and announce the VIPs again: it may have moved caches.
  const split = core.splitPeers.get(peer);
  if (split !== undefined) {
    if (now - split.since >= ONE_WAY_ADVERTS * core.advertIntervalMs) yieldOneWay(core, now, m, out);
    return;
  }
  const report = !startupRace(core, now, firstMasterHeard);
  core.splitPeers.set(peer, { since: now, reported: report });
  if (report) {
    core.counters.splitBrains++;
    out.alert({ kind: 'split-brain-detected', peer, winner: core.nodeId });
  }
  out.effect({ type: 'reannounce', reason: 'split-brain' });
  core.advertAt = now;
}

/**
 * One-way partitions (issue 21, item 4). A master that outranks another master it hears tells it
 * so at once (an advert now, then one every interval); a peer that hears any of them steps down
 * within an interval (§6.4.3). One still master after ONE_WAY_ADVERTS of our intervals evidently
 * does not hear us: the path from us to it is cut while its path to us works, and the rules alone
 * would leave two owners for as long as that lasts. Only we can see it, so we resolve it: we
 * yield (leave Master, follow it) and hold off preempting it for ONE_WAY_HOLD master-down
 * intervals. Then we claim again by the rules: if the path has healed it hears us and steps down
 * (the streak ends), and if not we yield again, holding twice as long each time up to
 * 2^ONE_WAY_MAX_DOUBLINGS times. Each retry of a lasting cut costs an overlap of about a
 * master-down interval and ONE_WAY_ADVERTS intervals, ever rarer; a healed path is found by the
 * next retry.
 */
export const ONE_WAY_ADVERTS = 3;
export const ONE_WAY_HOLD = 10;
export const ONE_WAY_MAX_DOUBLINGS = 5;

function yieldOneWay(core: GroupCore, now: number, m: AdvertMessage, out: OutputBuilder): void {
  core.endSplit(m.from, out);
  core.failHandover('preempted', out);
  core.leaveMaster(now, 'backup', 'one-way-partition', out);
  core.preemptHold = true;
  const doublings = Math.min(core.oneWayYields, ONE_WAY_MAX_DOUBLINGS);
  core.preemptHoldUntil = now + ONE_WAY_HOLD * 2 ** doublings * core.masterDownIntervalMs;
  core.oneWayYields++;
  core.followMaster(now, m);
}
