/**
 * The benchmark starts dsrd with the CPU scheduling the systemd unit gives it, so what it measures
 * is what an installed director runs with: CPUSchedulingPolicy=, CPUSchedulingPriority= and
 * CPUSchedulingResetOnFork= become `chrt`, Nice= becomes `nice`, read from systemd/dsrd.service
 * itself (pure parsing here; the stack puts the prefix in front of the daemon's command line).
 *
 * `chrt` and `nice` set the policy before exec, as systemd does, so the daemon's main thread starts
 * with it and the threads Node creates inherit it, or not (reset on fork), exactly as under systemd.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DsrError } from '../../core/errors.ts';

export const DSRD_UNIT = fileURLToPath(new URL('../../systemd/dsrd.service', import.meta.url));

export type SchedPolicy = 'other' | 'batch' | 'idle' | 'fifo' | 'rr';

export interface Scheduling {
  policy: SchedPolicy | null;
  /** Real-time priority 1..99 (fifo, rr). */
  priority: number | null;
  /** Nice value -20..19. */
  nice: number | null;
  /**
   * CPUSchedulingResetOnFork=: threads and processes the daemon creates start at the default
   * policy, so only the main thread (the event loop) runs real-time. Without it every V8 and libuv
   * thread is real-time too, and a main thread polling for a background compile at the same
   * real-time priority can keep those threads off the CPU for good (seen here: dsrd never finished
   * starting with two directors on two cores).
   */
  resetOnFork: boolean;
}

const POLICIES: readonly SchedPolicy[] = ['other', 'batch', 'idle', 'fifo', 'rr'];
const none = (): Scheduling => ({ policy: null, priority: null, nice: null, resetOnFork: false });
const isRealtime = (p: SchedPolicy | null): boolean => p === 'fifo' || p === 'rr';

function intIn(key: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v === '' || !Number.isInteger(n) || n < min || n > max)
    throw new DsrError('E_BENCH', `${key}=${v} is not an integer ${min}..${max}`);
  return n;
}

/** The scheduling directives of the unit's [Service] section (the last one of each wins, as in systemd). */
export function unitScheduling(unitText: string): Scheduling {
  const s = none();
  let section = '';
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = line;
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== '[Service]' || eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'CPUSchedulingPolicy') {
      if (!POLICIES.includes(value as SchedPolicy))
        throw new DsrError('E_BENCH', `CPUSchedulingPolicy=${value} is not one of ${POLICIES.join(', ')}`);
      s.policy = value as SchedPolicy;
    } else if (key === 'CPUSchedulingPriority') {
      s.priority = intIn(key, value, 1, 99);
    } else if (key === 'Nice') {
      s.nice = intIn(key, value, -20, 19);
    } else if (key === 'CPUSchedulingResetOnFork') {
      s.resetOnFork = ['yes', 'true', 'on', '1'].includes(value.toLowerCase());
    }
  }
  return s;
}

/**
 * The command prefix that starts a process with `s` (empty when nothing is set). A real-time
 * policy without a priority gets 1, like systemd when CPUSchedulingPriority= is not set.
 */
export function schedulingPrefix(s: Scheduling): string[] {
  const out: string[] = [];
  if (s.nice !== null) out.push('nice', '-n', String(s.nice));
  if (s.policy !== null && s.policy !== 'other') {
    const reset = s.resetOnFork ? ['--reset-on-fork'] : [];
    out.push('chrt', ...reset, `--${s.policy}`, String(isRealtime(s.policy) ? (s.priority ?? 1) : 0));
  }
  return out;
}

/** The scheduling of the unit in this checkout (systemd/dsrd.service). */
export function dsrdUnitScheduling(path = DSRD_UNIT): Scheduling {
  return unitScheduling(readFileSync(path, 'utf8'));
}

/** "fifo 10, reset on fork", "nice -10" or "default", for the report. */
export function describeScheduling(s: Scheduling): string {
  const parts: string[] = [];
  if (s.policy !== null && s.policy !== 'other')
    parts.push(isRealtime(s.policy) ? `${s.policy} ${s.priority ?? 1}` : s.policy);
  if (s.resetOnFork && parts.length > 0) parts.push('reset on fork');
  if (s.nice !== null) parts.push(`nice ${s.nice}`);
  return parts.length > 0 ? parts.join(', ') : 'default';
}

/**
 * `--sched` of the benchmark, to measure the alternatives: "unit" (the unit file's), "other"
 * (nothing), or a comma list of "fifo:P", "rr:P", "nice:N" and "reset" (reset on fork).
 */
export function parseSchedulingArg(arg: string, unit: () => Scheduling = dsrdUnitScheduling): Scheduling {
  if (arg === 'unit') return unit();
  const s = none();
  for (const part of arg.split(',').map((p) => p.trim())) {
    const [name, value = ''] = part.split(':');
    if (name === 'nice') s.nice = intIn('--sched nice', value, -20, 19);
    else if (name === 'fifo' || name === 'rr') {
      s.policy = name;
      s.priority = intIn(`--sched ${name}`, value, 1, 99);
    } else if (name === 'other' && value === '') s.policy = 'other';
    else if (name === 'reset' && value === '') s.resetOnFork = true;
    else
      throw new DsrError('E_USAGE', `--sched: "${part}" is not unit, other, fifo:P, rr:P, nice:N or reset`, {
        arg,
      });
  }
  return s;
}
