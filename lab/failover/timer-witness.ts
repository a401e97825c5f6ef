/**
 * A witness for the soak: a bare timer loop that does nothing else, started with the same real-time
 * scheduling as dsrd (the stack's chrt prefix). Whatever delays *it* is the platform (the hypervisor
 * pausing the VM, long non-preemptible kernel sections of other processes), not the daemon's own
 * work: so each false failover can be told apart as the daemon's fault or the host's.
 *
 * Usage: timer-witness.ts --interval-ms 5 --duration-ms 600000
 * Prints "READY" once running and, on SIGTERM or after the duration, "RESULT <json WitnessResult>".
 */
import { parseArgs } from 'node:util';

export const WITNESS_BUCKETS_MS = [10, 20, 30, 50, 70, 100] as const;

export interface WitnessResult {
  ticks: number;
  /** Largest lateness of a timer (ms beyond its interval). */
  maxLateMs: number;
  /** Count of timers later than each of WITNESS_BUCKETS_MS ("20" → later than 20 ms). */
  lateOver: Record<string, number>;
  /** Epoch ms of each lateness over 30 ms, with its size (the first 50). */
  stalls: { at: number; lateMs: number }[];
}

/** Accumulates timer lateness (pure; the loop below feeds it). */
export class LatenessTally {
  ticks = 0;
  maxLateMs = 0;
  readonly lateOver: Record<string, number> = Object.fromEntries(
    WITNESS_BUCKETS_MS.map((b) => [String(b), 0]),
  );
  readonly stalls: { at: number; lateMs: number }[] = [];

  add(lateMs: number, at: number): void {
    this.ticks++;
    if (lateMs > this.maxLateMs) this.maxLateMs = lateMs;
    for (const b of WITNESS_BUCKETS_MS) if (lateMs > b) this.lateOver[String(b)]++;
    if (lateMs > 30 && this.stalls.length < 50) this.stalls.push({ at, lateMs: Math.round(lateMs) });
  }

  result(): WitnessResult {
    return {
      ticks: this.ticks,
      maxLateMs: Math.round(this.maxLateMs * 10) / 10,
      lateOver: { ...this.lateOver },
      stalls: [...this.stalls],
    };
  }
}

function main(): void {
  const { values } = parseArgs({
    options: { 'interval-ms': { type: 'string', default: '5' }, 'duration-ms': { type: 'string' } },
  });
  const interval = Number(values['interval-ms']);
  const duration = Number(values['duration-ms']);
  if (!(interval > 0) || !(duration > 0)) {
    console.error('usage: timer-witness.ts --interval-ms MS --duration-ms MS');
    process.exit(2);
  }
  const tally = new LatenessTally();
  const end = performance.now() + duration;
  let prev = performance.now();
  let timer: NodeJS.Timeout;
  const finish = (): void => {
    clearTimeout(timer);
    console.log(`RESULT ${JSON.stringify(tally.result())}`);
    process.exit(0);
  };
  const tick = (): void => {
    const now = performance.now();
    tally.add(now - prev - interval, performance.timeOrigin + now);
    prev = now;
    if (now >= end) finish();
    else timer = setTimeout(tick, interval);
  };
  process.on('SIGTERM', finish);
  timer = setTimeout(tick, interval);
  console.log('READY');
}

if (import.meta.url === `file://${process.argv[1]}`) main();
