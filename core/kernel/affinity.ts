/**
 * CPU affinity of the calling thread (sched_setaffinity(2) with pid 0), through koffi. Used to keep
 * the election thread and its advert keeper on different CPUs, so that one CPU taken away (a
 * hypervisor descheduling one vCPU) cannot stop both (failover/thread/advert-keeper.ts).
 */
import koffi from 'koffi';
import { DsrError } from '../errors.ts';
import { errnoName } from './libc.ts';

/** Room for 1024 CPUs, glibc's cpu_set_t. */
const MASK_BYTES = 128;

interface AffinityFns {
  sched_getaffinity: (pid: number, size: number, mask: Buffer) => number;
  sched_setaffinity: (pid: number, size: number, mask: Buffer) => number;
}

let fns: AffinityFns | undefined;

function affinity(): AffinityFns {
  if (fns !== undefined) return fns;
  const lib = koffi.load('libc.so.6');
  fns = {
    sched_getaffinity: lib.func('int sched_getaffinity(int pid, size_t size, _Out_ void *mask)'),
    sched_setaffinity: lib.func('int sched_setaffinity(int pid, size_t size, const void *mask)'),
  };
  return fns;
}

function fail(call: string, context: Record<string, unknown>): never {
  const errno = koffi.errno();
  throw new DsrError('E_SYSCALL', `${call} failed: ${errnoName(errno)}`, { ...context, errno });
}

/** The CPUs the calling thread may run on, ascending. */
export function threadAffinity(): number[] {
  const mask = Buffer.alloc(MASK_BYTES);
  if (affinity().sched_getaffinity(0, MASK_BYTES, mask) < 0) fail('sched_getaffinity', {});
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
  if (affinity().sched_setaffinity(0, MASK_BYTES, mask) < 0) fail('sched_setaffinity', { cpus });
}
