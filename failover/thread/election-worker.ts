/**
 * The election thread: the groups' state machines, the runner's timers and the UDP transport,
 * alone on a thread of their own (docs/failover.md, "Election thread").
 *
 * Why a thread: adverts and the master-down timer must not wait for the daemon's other work. On
 * the main thread they waited for garbage collection, table work and health checks, long enough
 * to trip master-down at a 10 ms advert interval (the soaks' figures: docs/failover.md). Here the
 * heap is small and nothing else runs, and the thread asks for its own real-time priority.
 *
 * What it does not do: VIPs, alerts and logs stay on the main thread, which gets every output
 * that has effects or transitions, with a status snapshot, and sends its inputs back as data
 * (ControlInput, failover/election/input.ts). The one exception is a takeover's first
 * announcement, sent here as the thread decides (takeover-announcer.ts), because clients wait for
 * it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { keyringFromMaterial } from '../../core/auth/key-material.ts';
import { SenderSession } from '../../core/auth/session.ts';
import { DsrError } from '../../core/errors.ts';
import {
  describeScheduling,
  setThreadAffinity,
  setThreadScheduling,
  threadAffinity,
  threadScheduling,
} from '../../core/kernel/sched.ts';
import { removeAddressNow } from '../../core/netlink/address-manager.ts';
import { ElectionGroup } from '../election/group.ts';
import type { ElectionOutput } from '../election/types.ts';
import { ElectionRunner } from '../transport/election-runner.ts';
import { ElectionTransport } from '../transport/election-transport.ts';
import { budgetFor } from '../transport/source-budget.ts';
import { PacketAnnouncer } from '../vip/announcer.ts';
import { DEFAULT_COVER_LIMIT_MS } from './advert-cover.ts';
import { AdvertKeeper, keeperOff } from './advert-keeper.ts';
import { CoverBoard } from './cover-board.ts';
import { HungMainRelease } from './hung-main-release.ts';
import { BEAT_MS, HeartbeatWatch, MAIN_THREAD_CONDITION } from './main-heartbeat.ts';
import { preciseTimers } from './precise-timers.ts';
import type {
  ElectionSnapshot,
  ElectionThreadData,
  FromThread,
  KeeperStatus,
  SerializedError,
  ToThread,
} from './protocol.ts';
import { TakeoverAnnouncer } from './takeover-announcer.ts';

if (parentPort === null) throw new Error('election-worker.ts runs as a worker thread');
const port = parentPort;
const data = workerData as ElectionThreadData;
const post = (m: FromThread): void => port.postMessage(m);

/** The main thread's performance.now(), read from the process-wide monotonic clock. */
const now = (): number => Number(process.hrtime.bigint() - data.clockOriginNs) / 1e6;

function serialize(err: unknown): SerializedError {
  if (err instanceof DsrError) {
    const prefix = `${err.code}: `;
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return { code: err.code, message, context: err.context };
  }
  return { code: null, message: err instanceof Error ? err.message : String(err), context: {} };
}

function applyScheduling(): { scheduling: string; schedulingError: string | null } {
  let error: string | null = null;
  if (data.scheduling !== null) {
    try {
      setThreadScheduling(data.scheduling);
    } catch (err) {
      // Not fatal: the election runs, at the default policy; status and the log say so.
      error = err instanceof Error ? err.message : String(err);
    }
  }
  return { scheduling: describeScheduling(threadScheduling()), schedulingError: error };
}

let runner: ElectionRunner | undefined;
let transport: ElectionTransport | undefined;
let announcer: TakeoverAnnouncer | undefined;
let keeper: AdvertKeeper | undefined;
let keeperStarting: Promise<AdvertKeeper> | null = null;
let keeperStatus: KeeperStatus = keeperOff('not started');

/**
 * The election thread's CPU and the keeper's: the last two the process may use, one each, so one
 * CPU taken away cannot stop both. null when there is one CPU (a keeper would share its pauses).
 */
function chooseCpus(): { election: number; keeper: number } | null {
  const allowed = threadAffinity();
  if (allowed.length < 2) return null;
  return { election: allowed[allowed.length - 1], keeper: allowed[allowed.length - 2] };
}

/** Starts the keeper (it copies the keys now, before the thread zeroes them); null if it cannot run. */
function startKeeper(board: CoverBoard, session: SenderSession): Promise<AdvertKeeper> | null {
  const t = data.transport;
  if (t === null || data.groups.length === 0) return null;
  let cpus: { election: number; keeper: number } | null;
  try {
    cpus = chooseCpus();
    if (cpus !== null) setThreadAffinity([cpus.election]);
  } catch (err) {
    keeperStatus = keeperOff(`affinity: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
  if (cpus === null) {
    keeperStatus = keeperOff('one CPU: a keeper would pause with the election thread');
    return null;
  }
  const groups = data.groups.map((g) => ({
    groupId: g.groupId,
    spacingMs: g.advertIntervalMs / (g.advertsPerInterval ?? 1),
  }));
  keeperStatus = keeperOff('starting', cpus.election);
  return AdvertKeeper.start(
    board,
    groups,
    {
      nodeId: data.nodeId,
      clockOriginNs: data.clockOriginNs,
      scheduling: data.scheduling,
      cpu: cpus.keeper,
      session: { id: session.id, wallMs: session.start.wallMs, monoMs: session.start.monoMs },
      transport: t,
      limitMs: DEFAULT_COVER_LIMIT_MS,
    },
    cpus.election,
  );
}

/** Opens the thread's announcer when there is something to announce; an error leaves it to the main thread. */
function openAnnouncer(): string | null {
  const a = data.announce;
  if (a === null || !Object.values(a.groups).some((t) => t.length > 0)) return null;
  try {
    announcer = new TakeoverAnnouncer(new PacketAnnouncer({ arpForms: a.arpForms }), a.groups);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function snapshot(): ElectionSnapshot {
  const s = runner?.status() ?? { groups: [], drops: {} };
  return {
    at: now(),
    groups: s.groups,
    drops: s.drops,
    transport: transport?.stats() ?? null,
    replay: transport?.replayState() ?? [],
    keeper: keeper?.status() ?? keeperStatus,
  };
}

function report(groupId: number, output: ElectionOutput): void {
  // Adverts alone are the thread's business; the main thread needs effects and transitions.
  if (output.effects.length === 0 && output.transitions.length === 0) return;
  // Clients wait for this frame: it goes out before anything else is done with the output.
  const announced = output.effects.some((e) => e.type === 'become-master')
    ? announcer?.announce(groupId)
    : undefined;
  const { messages, ...rest } = output;
  const reported = { ...rest, sent: messages.length, ...(announced === undefined ? {} : { announced }) };
  post({ type: 'output', groupId, output: reported, snapshot: snapshot() });
}

async function start(): Promise<void> {
  const sched = applyScheduling();
  const announceError = openAnnouncer();
  const watched = data.heartbeat !== null;
  const groups = data.groups.map(
    (o) =>
      new ElectionGroup({
        ...o,
        tracked: watched ? [...(o.tracked ?? []), { name: MAIN_THREAD_CONDITION, fault: true }] : o.tracked,
        random: Math.random,
      }),
  );
  const t = data.transport;
  // The session id grows across restarts whatever the wall clock does (the main thread recorded
  // it: core/auth/session-store.ts). The keeper signs as the same sender, so the sequence number
  // lives on the board both threads share.
  const board = new CoverBoard(data.groups.length);
  if (t !== null) {
    const session = new SenderSession(t.sessionId, Date.now(), now(), board.sequence);
    keeperStarting = startKeeper(board, session);
    transport = new ElectionTransport({
      nodeId: data.nodeId,
      bind: t.bind,
      peers: t.peers,
      multicast: t.multicast,
      keyring: keyringFromMaterial(t.keys, t.keyPurpose),
      session,
      clock: { mono: now, wall: () => Date.now() },
      replaySeeds: t.replaySeeds,
      budget: budgetFor(data.groups.map((g) => g.advertIntervalMs)),
      onMessage: (m) => runner?.deliver(m),
      onDrop: (reason, info) => runner?.recordDrop(reason, info.groupId),
      onError: (err) => post({ type: 'socket-error', message: err.message }),
    });
  }
  runner = new ElectionRunner({
    groups,
    now,
    // The master-down timer's lateness adds to every unplanned outage; this thread can afford to
    // sleep out the last ms of a deadline.
    timers: preciseTimers(now),
    send: (out) => {
      keeper?.observe(out, now());
      transport?.send(out);
    },
    coveredUntil: (groupId) => keeper?.coveredUntil(groupId) ?? null,
    onOutput: (group, out) => report(group.groupId, out),
  });
  await transport?.start();
  try {
    keeper = (await keeperStarting) ?? undefined;
  } catch (err) {
    keeperStatus = keeperOff(`the keeper did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  const timer = setInterval(() => post({ type: 'snapshot', snapshot: snapshot() }), data.snapshotIntervalMs);
  const stopWatching = data.heartbeat === null ? undefined : watchMainThread(data.heartbeat, groups);
  port.on('message', (m: ToThread) => {
    if (m.type === 'start-groups') {
      if (!runner?.running) runner?.start();
    } else if (m.type === 'input') {
      let error: SerializedError | null = null;
      try {
        runner?.input(m.groupId, m.input);
      } catch (err) {
        error = serialize(err);
      }
      post({ type: 'input-done', id: m.id, error, snapshot: snapshot() });
    } else if (m.type === 'keys') {
      // The keeper gets a copy: keyringFromMaterial zeroes the secrets it is given.
      keeper?.setKeys({ ...m.keys, keys: m.keys.keys.map((k) => ({ id: k.id, secret: k.secret.slice() })) });
      transport?.setKeyring(keyringFromMaterial(m.keys, data.transport!.keyPurpose));
    } else if (m.type === 'stop') {
      clearInterval(timer);
      stopWatching?.();
      // The keeper goes quiet first (its stop moves the epoch at once), then masters send
      // priority 0 (RFC 5798 §6.4.3) and report become-backup; close() flushes them.
      const keeperStopped = keeper?.stop() ?? Promise.resolve();
      runner?.stop();
      announcer?.close();
      // Closing the port lets the thread exit: the main thread's stop() resolves on 'exit', after
      // every message posted before it.
      void Promise.all([keeperStopped, transport?.close()]).finally(() => port.close());
    }
  });
  post({ type: 'ready', ...sched, announceError });
}

/** How often a hung main thread's held VIPs are checked for a new master to hand them to. */
const RELEASE_POLL_MS = 5;

/**
 * Every BEAT_MS: a stale main thread makes every group Fault, a live one clears it. The groups
 * that were master keep their VIPs until another director is master, then this thread removes
 * them (hung-main-release.ts).
 */
function watchMainThread(buffer: SharedArrayBuffer, groups: readonly ElectionGroup[]): () => void {
  const watch = new HeartbeatWatch(buffer);
  const release = new HungMainRelease(data.vips, removeAddressNow);
  let failing = false;
  let polling: NodeJS.Timeout | undefined;
  const otherMaster = (groupId: number): boolean => {
    const g = groups.find((x) => x.groupId === groupId);
    return g !== undefined && g.masterId !== null && g.masterId !== g.nodeId;
  };
  // Polled only while a group waits for another master.
  const pollWhileWaiting = (): void => {
    if (release.waiting) polling ??= setInterval(poll, RELEASE_POLL_MS);
    else {
      clearInterval(polling);
      polling = undefined;
    }
  };
  const poll = (): void => {
    for (const r of release.poll(otherMaster)) post({ type: 'released', ...r });
    pollWhileWaiting();
  };
  const beat = setInterval(() => {
    const stale = watch.stale(now());
    if (stale === failing) return;
    failing = stale;
    post({ type: 'main-thread', stale });
    for (const g of groups) {
      const wasMaster = g.state === 'master';
      runner?.input(g.groupId, { kind: 'set-condition', name: MAIN_THREAD_CONDITION, failing: stale });
      if (stale && wasMaster) release.hold(g.groupId);
    }
    if (!stale) release.clear();
    pollWhileWaiting();
  }, BEAT_MS);
  return () => {
    clearInterval(beat);
    clearInterval(polling);
  };
}

start().catch((err: unknown) => {
  post({ type: 'start-failed', error: serialize(err) });
  announcer?.close();
  // A keeper still starting is stopped once it has: nothing may outlive a failed start.
  void keeperStarting?.then((k) => k.stop()).catch(() => {});
  port.close();
});
