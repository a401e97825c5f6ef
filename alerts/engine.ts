/**
 * The alert delivery engine.
 *
 * - `enqueue(event)` is synchronous and does no I/O: for each target that wants
 *   the event it appends a delivery to that target's in-memory FIFO and asks the
 *   spool to persist it in the background. Sending starts on a later turn of the
 *   event loop (setImmediate), so the election or the forwarder calling it is
 *   never delayed by formatting, signing, disk or network.
 * - Each target drains its own FIFO with at most `policy.concurrency` deliveries
 *   active (sending or waiting to retry). With the default concurrency of 1 a
 *   target's events arrive strictly in order: a delivery that is retrying holds
 *   the target's only slot, so later events of that same target wait behind it
 *   (head-of-line blocking), while every other target carries on.
 * - Failures are retried with exponential backoff and full jitter, or after the
 *   receiver's Retry-After; 3xx and 4xx other than 408/425/429 are permanent.
 *   After `maxAttempts` attempts, past `maxAgeMs`, or on a permanent failure, the
 *   delivery goes to the dead-letter log.
 * - Past the queue bounds (items or bytes) the oldest delivery not currently on
 *   the wire is dropped, counted, and dead-lettered as `queue-full`.
 * - Deliveries pending at `close()` (or a crash) stay in the spool and are sent
 *   after the next `open()`. Delivery is at-least-once: a receiver that answered
 *   2xx just before a crash may see the event again, with the same webhook-id.
 * - Logs name targets, never URLs, headers or secrets.
 */
import { DsrError } from '../core/errors.ts';
import { fullJitterDelay, isRetryableStatus, parseRetryAfter } from './backoff.ts';
import { DeadLetterLog, type DeadLetterReason } from './dead-letter.ts';
import { type AlertEvent, createAlertEventFactory } from './events.ts';
import { Fifo } from './fifo.ts';
import { type FormattedRequest, formatRequest } from './format.ts';
import { createFetchSender, type HttpSender, type SendResult } from './http-sender.ts';
import { AlertSpool, type SpoolRecord } from './spool.ts';
import { type AlertTarget, type AlertTargetKind, selectorsMatch } from './targets.ts';

/** The subset of a pino logger the engine uses. */
export interface AlertLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EngineTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface AlertEngineOptions {
  /** This director's name, for test events. */
  node: string;
  targets: readonly AlertTarget[];
  spoolDir: string;
  deadLetterPath: string;
  /** Queue bounds over all targets (defaults: 10 000 deliveries, 16 MiB). */
  maxQueuedItems?: number;
  maxQueuedBytes?: number;
  /** The dead-letter log rotates to `.1` past this size (default 16 MiB). */
  maxDeadLetterBytes?: number;
  logger?: AlertLogger;
  send?: HttpSender;
  /** ms since the epoch. */
  now?: () => number;
  /** [0, 1), for backoff jitter. */
  random?: () => number;
  /** Schedules retries. */
  timers?: EngineTimers;
}

export interface DeliveryCounts {
  success: number;
  retry: number;
  failed: number;
  dropped: number;
}

export interface AlertTargetStats {
  target: string;
  kind: AlertTargetKind;
  /** Deliveries waiting for a slot. */
  queued: number;
  /** Deliveries sending or waiting to retry. */
  active: number;
  deliveries: DeliveryCounts;
}

export interface AlertEngineStats {
  targets: AlertTargetStats[];
  spool: { items: number; bytes: number; corrupt: number };
}

export interface TestDeliveryResult {
  target: string;
  eventId: string;
  ok: boolean;
  status?: number;
  error?: string;
}

interface TargetState {
  target: AlertTarget;
  removed: boolean;
  queue: Fifo<Item>;
  active: Set<Item>;
  pumpScheduled: boolean;
}

interface Item {
  record: SpoolRecord;
  ts: TargetState;
  attempts: number;
  state: 'queued' | 'sending' | 'waiting' | 'done';
  timer?: unknown;
  lastError?: string;
  lastStatus?: number;
}

const silentLogger: AlertLogger = { debug() {}, info() {}, warn() {}, error() {} };

const realTimers: EngineTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

function describeResult(r: SendResult): string {
  if (r.kind === 'response') return `HTTP ${r.status}`;
  return r.code ? `${r.error} ${r.code}` : r.error;
}

export class AlertEngine {
  readonly #node: string;
  readonly #spool: AlertSpool;
  readonly #deadLetter: DeadLetterLog;
  readonly #log: AlertLogger;
  readonly #send: HttpSender;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timers: EngineTimers;
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #targets = new Map<string, TargetState>();
  readonly #counts = new Map<string, DeliveryCounts>();
  /** Every delivery not yet settled, in enqueue (seq) order. */
  readonly #all = new Map<number, Item>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #corrupt = 0;
  #closed = false;

  private constructor(o: AlertEngineOptions, spool: AlertSpool, deadLetter: DeadLetterLog, log: AlertLogger) {
    this.#node = o.node;
    this.#spool = spool;
    this.#deadLetter = deadLetter;
    this.#log = log;
    this.#send = o.send ?? createFetchSender();
    this.#now = o.now ?? Date.now;
    this.#random = o.random ?? Math.random;
    this.#timers = o.timers ?? realTimers;
    this.#maxItems = Math.max(1, o.maxQueuedItems ?? 10_000);
    this.#maxBytes = Math.max(1, o.maxQueuedBytes ?? 16 * 1024 * 1024);
  }

  /** Opens the spool, re-queues what a previous run left, and starts delivering. */
  static async open(o: AlertEngineOptions): Promise<AlertEngine> {
    const log = o.logger ?? silentLogger;
    const { spool, load } = await AlertSpool.open(o.spoolDir, {
      onError: (op, seq, e) =>
        log.warn({ op, seq, err: (e as Error).message }, 'alert spool disk operation failed'),
    });
    const deadLetter = await DeadLetterLog.open(
      o.deadLetterPath,
      o.maxDeadLetterBytes ?? 16 * 1024 * 1024,
      (e) => log.warn({ err: (e as Error).message }, 'alert dead-letter log write failed'),
    );
    const engine = new AlertEngine(o, spool, deadLetter, log);
    engine.setTargets(o.targets);
    for (const c of load.corrupt) {
      engine.#corrupt++;
      deadLetter.append({
        time: new Date(engine.#now()).toISOString(),
        reason: 'corrupt',
        target: '',
        attempts: 0,
        lastError: c.reason,
        file: c.file,
        raw: c.raw,
      });
      log.warn(
        { file: c.file, reason: c.reason },
        'alert spool file unreadable; moved to the dead-letter log',
      );
    }
    for (const r of load.records) engine.#restore(r);
    if (load.records.length > 0)
      log.info({ count: load.records.length }, 'alert deliveries restored from spool');
    engine.#enforceBounds();
    return engine;
  }

  /** Queues an event for every target that wants it. Synchronous, no I/O, never throws. */
  enqueue(event: AlertEvent): void {
    const now = this.#now();
    for (const ts of this.#targets.values()) {
      if (!selectorsMatch(ts.target.selectors, event.type)) continue;
      if (this.#closed) {
        this.#countsOf(ts.target.name).dropped++;
        this.#log.warn({ target: ts.target.name, eventId: event.id }, 'alert engine closed; event dropped');
        continue;
      }
      const record = this.#spool.add(ts.target.name, event, now);
      this.#push(ts, record);
    }
    this.#enforceBounds();
  }

  /**
   * Replaces the target list (config reload). Targets kept by name keep their
   * queues and pick up the new settings; deliveries queued for a removed target
   * are dead-lettered as `target-removed`.
   */
  setTargets(targets: readonly AlertTarget[]): void {
    const names = new Set(targets.map((t) => t.name));
    if (names.size !== targets.length) {
      throw new DsrError('E_ALERT_TARGET_INVALID', 'two alert targets have the same name');
    }
    for (const [name, ts] of this.#targets) {
      if (names.has(name)) continue;
      ts.removed = true;
      this.#targets.delete(name);
      for (const item of [...ts.queue.drain(), ...ts.active]) {
        if (item.state !== 'sending') this.#deadLetterItem(item, 'target-removed');
      }
    }
    for (const t of targets) {
      const ts = this.#targets.get(t.name);
      if (ts) ts.target = t;
      else {
        this.#targets.set(t.name, {
          target: t,
          removed: false,
          queue: new Fifo(),
          active: new Set(),
          pumpScheduled: false,
        });
      }
      this.#countsOf(t.name);
      this.#schedulePump(this.#targets.get(t.name)!);
    }
  }

  /**
   * Sends a test event to one target now, once, outside the queue (for
   * `dsrctl alerts test TARGET`), and reports what the receiver said.
   */
  async sendTest(targetName: string): Promise<TestDeliveryResult> {
    const ts = this.#targets.get(targetName);
    if (!ts) {
      throw new DsrError('E_ALERT_TARGET_UNKNOWN', `no alert target named "${targetName}"`, {
        target: targetName,
        known: [...this.#targets.keys()],
      });
    }
    const event = createAlertEventFactory({ node: this.#node, now: this.#now }).make('test', {
      message: `Test alert sent by "dsrctl alerts test ${targetName}".`,
      target: targetName,
    });
    if (this.#closed) return { target: targetName, eventId: event.id, ok: false, error: 'engine closed' };
    const t = ts.target;
    const req = formatRequest(t, event, this.#now());
    const r = await this.#send({
      ...req,
      url: t.url,
      timeoutMs: t.policy.timeoutMs,
      signal: this.#abort.signal,
    });
    const ok = r.kind === 'response' && r.status >= 200 && r.status < 300;
    const counts = this.#countsOf(targetName);
    if (ok) counts.success++;
    else counts.failed++;
    this.#log.info({ target: targetName, eventId: event.id, result: describeResult(r) }, 'alert test sent');
    return r.kind === 'response'
      ? { target: targetName, eventId: event.id, ok, status: r.status }
      : { target: targetName, eventId: event.id, ok, error: describeResult(r) };
  }

  stats(): AlertEngineStats {
    const targets: AlertTargetStats[] = [];
    for (const [name, ts] of this.#targets) {
      targets.push({
        target: name,
        kind: ts.target.kind,
        queued: ts.queue.length,
        active: ts.active.size,
        deliveries: { ...this.#countsOf(name) },
      });
    }
    return { targets, spool: { items: this.#spool.count, bytes: this.#spool.bytes, corrupt: this.#corrupt } };
  }

  /**
   * Stops delivering: aborts requests on the wire, cancels retry timers, and
   * waits until the spool and the dead-letter log are on disk. What was not
   * delivered stays in the spool for the next `open()`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    for (const item of this.#all.values()) {
      if (item.timer !== undefined) this.#timers.clearTimeout(item.timer);
      item.timer = undefined;
    }
    await Promise.allSettled([...this.#inflight]);
    await this.#spool.flush();
    await this.#deadLetter.flush();
  }

  #countsOf(name: string): DeliveryCounts {
    let c = this.#counts.get(name);
    if (!c) {
      c = { success: 0, retry: 0, failed: 0, dropped: 0 };
      this.#counts.set(name, c);
    }
    return c;
  }

  #restore(record: SpoolRecord): void {
    const ts = this.#targets.get(record.target);
    if (ts) {
      this.#push(ts, record);
      return;
    }
    const item: Item = { record, ts: undefined as unknown as TargetState, attempts: 0, state: 'queued' };
    this.#all.set(record.seq, item);
    this.#deadLetterItem(item, 'target-removed', record.target);
  }

  #push(ts: TargetState, record: SpoolRecord): void {
    const item: Item = { record, ts, attempts: 0, state: 'queued' };
    this.#all.set(record.seq, item);
    ts.queue.push(item);
    this.#schedulePump(ts);
  }

  #schedulePump(ts: TargetState): void {
    if (ts.pumpScheduled || this.#closed) return;
    ts.pumpScheduled = true;
    setImmediate(() => {
      ts.pumpScheduled = false;
      this.#pump(ts);
    });
  }

  #pump(ts: TargetState): void {
    while (
      !this.#closed &&
      !ts.removed &&
      ts.active.size < ts.target.policy.concurrency &&
      ts.queue.length > 0
    ) {
      const item = ts.queue.shift()!;
      ts.active.add(item);
      this.#startAttempt(item);
    }
  }

  #startAttempt(item: Item): void {
    const p = this.#attempt(item).catch((e) =>
      this.#log.error(
        { target: item.record.target, err: (e as Error).message },
        'alert delivery failed internally',
      ),
    );
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  async #attempt(item: Item): Promise<void> {
    if (this.#closed || item.state === 'done') return;
    const t = item.ts.target;
    item.state = 'sending';
    item.attempts++;
    let req: FormattedRequest;
    try {
      req = formatRequest(t, item.record.event, this.#now());
    } catch (e) {
      item.lastError = `format: ${(e as Error).message}`;
      return this.#deadLetterItem(item, 'rejected');
    }
    const r = await this.#send({
      ...req,
      url: t.url,
      timeoutMs: t.policy.timeoutMs,
      signal: this.#abort.signal,
    });
    const ok = r.kind === 'response' && r.status >= 200 && r.status < 300;
    if (ok) {
      // Settled even when closing, so a delivered event is not sent again after restart.
      this.#countsOf(t.name).success++;
      this.#log.debug(
        { target: t.name, eventId: item.record.event.id, attempt: item.attempts },
        'alert delivered',
      );
      this.#settle(item);
      return;
    }
    if (this.#closed) return;
    item.lastError = describeResult(r);
    item.lastStatus = r.kind === 'response' ? r.status : undefined;
    if (item.ts.removed) return this.#deadLetterItem(item, 'target-removed');
    if (r.kind === 'response' && !isRetryableStatus(r.status)) return this.#deadLetterItem(item, 'rejected');
    this.#retryLater(item, r.kind === 'response' ? r.retryAfter : null);
  }

  #retryLater(item: Item, retryAfter: string | null): void {
    const t = item.ts.target;
    const p = t.policy;
    if (item.attempts >= p.maxAttempts) {
      this.#deadLetterItem(item, 'max-attempts');
      return;
    }
    const now = this.#now();
    const asked = parseRetryAfter(retryAfter, now);
    const delay =
      asked === null
        ? fullJitterDelay(item.attempts, p.baseDelayMs, p.maxDelayMs, this.#random)
        : Math.min(asked, p.maxRetryAfterMs);
    if (now + delay - item.record.enqueuedAt > p.maxAgeMs) {
      this.#deadLetterItem(item, 'max-age');
      return;
    }
    this.#countsOf(t.name).retry++;
    this.#log.debug(
      {
        target: t.name,
        eventId: item.record.event.id,
        attempt: item.attempts,
        error: item.lastError,
        delayMs: delay,
      },
      'alert delivery will be retried',
    );
    item.state = 'waiting';
    item.timer = this.#timers.setTimeout(() => {
      item.timer = undefined;
      if (!this.#closed && item.state === 'waiting') this.#startAttempt(item);
    }, delay);
  }

  #deadLetterItem(item: Item, reason: DeadLetterReason, targetName = item.ts.target.name): void {
    const counts = this.#countsOf(targetName);
    if (reason === 'queue-full' || reason === 'target-removed') counts.dropped++;
    else counts.failed++;
    this.#deadLetter.append({
      time: new Date(this.#now()).toISOString(),
      reason,
      target: targetName,
      attempts: item.attempts,
      ...(item.lastError === undefined ? {} : { lastError: item.lastError }),
      ...(item.lastStatus === undefined ? {} : { lastStatus: item.lastStatus }),
      event: item.record.event,
    });
    this.#log.warn(
      {
        target: targetName,
        eventId: item.record.event.id,
        eventType: item.record.event.type,
        reason,
        attempts: item.attempts,
        error: item.lastError,
      },
      'alert not delivered; written to the dead-letter log',
    );
    this.#settle(item);
  }

  #settle(item: Item): void {
    if (item.timer !== undefined) this.#timers.clearTimeout(item.timer);
    item.timer = undefined;
    item.state = 'done';
    this.#all.delete(item.record.seq);
    this.#spool.remove(item.record.seq);
    const ts = item.ts;
    if (ts?.active.delete(item)) this.#schedulePump(ts);
  }

  /** Drops the oldest deliveries not on the wire until the spool is within its bounds. */
  #enforceBounds(): void {
    while (this.#spool.count > this.#maxItems || this.#spool.bytes > this.#maxBytes) {
      let victim: Item | undefined;
      for (const item of this.#all.values()) {
        if (item.state !== 'sending') {
          victim = item;
          break;
        }
      }
      if (!victim) return;
      if (victim.state === 'queued') victim.ts.queue.remove(victim);
      this.#deadLetterItem(victim, 'queue-full');
    }
  }
}
