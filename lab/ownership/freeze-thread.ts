/**
 * Freezes one thread of a running process, and only that thread: the "hung main thread" of
 * issue 21 (a synchronous call that never returns, a page fault on a dead NFS mount) without any
 * hook in the daemon. SIGSTOP cannot do it: it stops every thread of the process.
 *
 * How: ptrace(2) PTRACE_SEIZE on the thread id, then PTRACE_INTERRUPT, which puts that one thread
 * in a ptrace-stop and leaves its siblings running (ptrace(2), "Attaching and detaching": seize
 * does not stop, and an interrupt is per-thread, unlike the group-stop a SIGSTOP starts). The
 * thread resumes on PTRACE_DETACH, and also when this process dies in any way (the kernel detaches
 * a dead tracer's tracees), so a killed run never leaves a daemon frozen.
 *
 * Usage: freeze-thread.ts --tid N [--for-ms M]. Prints "FROZEN" once the thread is stopped; on
 * SIGTERM, or after M ms when given, detaches, prints "THAWED" and exits. A Node process's main thread id is its pid.
 */
import { parseArgs } from 'node:util';
import koffi from 'koffi';

const PTRACE_DETACH = 17;
const PTRACE_SEIZE = 0x4206;
const PTRACE_INTERRUPT = 0x4207;
const WALL = 0x40000000;

const { values } = parseArgs({ options: { tid: { type: 'string' }, 'for-ms': { type: 'string' } } });
const tid = Number(values.tid);
if (!Number.isInteger(tid) || tid <= 0) throw new Error('--tid N is required');

const libc = koffi.load('libc.so.6');
const ptrace = libc.func('long ptrace(int request, int pid, void *addr, void *data)');
const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');

function check(what: string, r: number | bigint): void {
  if (Number(r) < 0) throw new Error(`${what} of thread ${tid} failed: errno ${koffi.errno()}`);
}

check('PTRACE_SEIZE', ptrace(PTRACE_SEIZE, tid, null, null));
check('PTRACE_INTERRUPT', ptrace(PTRACE_INTERRUPT, tid, null, null));
// The tracer learns of the stop through waitpid (__WALL: the tracee is a thread, not a child).
const status = [0];
check('waitpid', waitpid(tid, status, WALL));
console.log('FROZEN');

let thawed = false;
function thaw(): void {
  if (thawed) return;
  thawed = true;
  check('PTRACE_DETACH', ptrace(PTRACE_DETACH, tid, null, null));
  console.log('THAWED');
  process.exit(0);
}
process.on('SIGTERM', thaw);
// Nothing else keeps this process alive until the thaw.
setInterval(() => {}, 60_000);
if (values['for-ms'] !== undefined) setTimeout(thaw, Number(values['for-ms']));
