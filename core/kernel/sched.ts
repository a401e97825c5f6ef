/**
 * CPU scheduling of the calling thread (sched(7)), through koffi: its policy and priority, and the
 * CPUs it may run on. Linux applies sched_setscheduler(0, ...) and sched_setaffinity(0, ...) to the
 * calling thread, not the whole process, which is what lets the election thread run real-time
 * while the daemon's other threads do not, and keeps the election thread and its advert keeper on
 * different CPUs, so that one CPU taken away (a hypervisor descheduling one vCPU) cannot stop both
 * (failover/thread/advert-keeper.ts).
 */
import koffi from 'koffi';
import { DsrError } from '../errors.ts';
import { errnoName } from './libc.ts';

export type ThreadPolicy = 'other' | 'fifo' | 'rr' | 'batch' | 'idle';

export interface ThreadScheduling {
  readonly policy: ThreadPolicy;
  /** 1..99 for fifo and rr, 0 otherwise. */
  readonly priority: number;
  /** SCHED_RESET_ON_FORK: threads and processes created by this thread start at the default policy. */
  readonly resetOnFork: boolean;
}

const POLICY_NUMBERS: Record<ThreadPolicy, number> = { other: 0, fifo: 1, rr: 2, batch: 3, idle: 5 };
const SCHED_RESET_ON_FORK = 0x40000000;

interface SchedFns {
  sched_getscheduler: (pid: number) => number;
  sched_getparam: (pid: number, param: Buffer) => number;
  sched_setscheduler: (pid: number, policy: number, param: Buffer) => number;
  sched_getaffinity: (pid: number, size: number, mask: Buffer) => number;
  sched_setaffinity: (pid: number, size: number, mask: Buffer) => number;
  gettid: () => number;
  setpriority: (which: number, who: number, prio: number) => number;
}

/** Room for 1024 CPUs, glibc's cpu_set_t. */
const MASK_BYTES = 128;

let fns: SchedFns | undefined;

function sched(): SchedFns {
  if (fns !== undefined) return fns;
  const lib = koffi.load('libc.so.6');
  fns = {
    sched_getscheduler: lib.func('int sched_getscheduler(int pid)'),
    sched_getparam: lib.func('int sched_getparam(int pid, _Out_ void *param)'),
    sched_setscheduler: lib.func('int sched_setscheduler(int pid, int policy, const void *param)'),
    sched_getaffinity: lib.func('int sched_getaffinity(int pid, size_t size, _Out_ void *mask)'),
    sched_setaffinity: lib.func('int sched_setaffinity(int pid, size_t size, const void *mask)'),
    gettid: lib.func('int gettid(void)'),
    setpriority: lib.func('int setpriority(int which, int who, int prio)'),
  };
  return fns;
}

function fail(call: string, context: Record<string, unknown>): never {
  const errno = koffi.errno();
  throw new DsrError('E_SYSCALL', `${call} failed: ${errnoName(errno)}`, { ...context, errno });
}

/** The calling thread's policy, priority and reset-on-fork flag. */
export function threadScheduling(): ThreadScheduling {
  const raw = sched().sched_getscheduler(0);
  if (raw < 0) fail('sched_getscheduler', {});
  const param = Buffer.alloc(4);
  if (sched().sched_getparam(0, param) < 0) fail('sched_getparam', {});
  const number = raw & ~SCHED_RESET_ON_FORK;
  const policy = (Object.keys(POLICY_NUMBERS) as ThreadPolicy[]).find((p) => POLICY_NUMBERS[p] === number);
  if (policy === undefined) {
    throw new DsrError('E_SYSCALL', `sched_getscheduler returned an unknown policy ${number}`, { raw });
  }
  return { policy, priority: param.readInt32LE(0), resetOnFork: (raw & SCHED_RESET_ON_FORK) !== 0 };
}

/**
 * Sets the calling thread's scheduling. Raising a thread to a real-time policy needs CAP_SYS_NICE
 * or an RLIMIT_RTPRIO at least `priority` (systemd: LimitRTPRIO=); EPERM otherwise.
 */
export function setThreadScheduling(s: ThreadScheduling): void {
  const realtime = s.policy === 'fifo' || s.policy === 'rr';
  if (!Number.isInteger(s.priority) || (realtime ? s.priority < 1 || s.priority > 99 : s.priority !== 0)) {
    throw new DsrError('E_SYSCALL', `priority ${s.priority} is not valid for policy ${s.policy}`, { ...s });
  }
  const param = Buffer.alloc(4);
  param.writeInt32LE(s.priority, 0);
  const policy = POLICY_NUMBERS[s.policy] | (s.resetOnFork ? SCHED_RESET_ON_FORK : 0);
  if (sched().sched_setscheduler(0, policy, param) < 0) fail('sched_setscheduler', { ...s });
}

const PRIO_PROCESS = 0;

/**
 * Sets the calling thread's nice value (-20..19). POSIX makes nice a process attribute, but Linux
 * keeps it per thread and setpriority(PRIO_PROCESS, tid) sets that thread's only (setpriority(2),
 * BUGS): a background thread can yield to the rest of the daemon without slowing the rest down.
 */
export function setThreadNice(nice: number): void {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
    throw new DsrError('E_SYSCALL', `nice ${nice} is not an integer -20..19`, { nice });
  }
  if (sched().setpriority(PRIO_PROCESS, sched().gettid(), nice) < 0) fail('setpriority', { nice });
}

export function describeScheduling(s: ThreadScheduling): string {
  const base = s.policy === 'fifo' || s.policy === 'rr' ? `${s.policy} ${s.priority}` : s.policy;
  return s.resetOnFork ? `${base}, reset on fork` : base;
}

/** The CPUs the calling thread may run on, ascending. */
export function threadAffinity(): number[] {
  const mask = Buffer.alloc(MASK_BYTES);
  if (sched().sched_getaffinity(0, MASK_BYTES, mask) < 0) fail('sched_getaffinity', {});
  const cpus: number[] = [];
  for (let cpu = 0; cpu < MASK_BYTES * 8; cpu++) {
    if (mask[cpu >> 3] & (1 << (cpu & 7))) cpus.push(cpu);
  }
  return cpus;
}

/** Restricts the calling thread to `cpus` (EINVAL when none of them is allowed or online). */
export function setThreadAffinity(cpus: readonly number[]): void {
  const mask = Buffer.alloc(MASK_BYTES);
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= MASK_BYTES * 8) {
      throw new DsrError('E_SYSCALL', `CPU ${cpu} is out of range`, { cpus });
    }
    mask[cpu >> 3] |= 1 << (cpu & 7);
  }
  if (sched().sched_setaffinity(0, MASK_BYTES, mask) < 0) fail('sched_setaffinity', { cpus });
}
