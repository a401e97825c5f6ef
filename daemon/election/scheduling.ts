/**
 * The election thread's CPU scheduling, from the daemon's own (set by the systemd unit,
 * systemd/dsrd.service). A daemon started real-time runs its election thread real-time one
 * priority above the main thread, so a main thread busy with garbage collection or table work
 * on the same core cannot hold back an advert or the master-down timer (docs/failover.md).
 * Started at the default policy, the election thread stays there: the operator has not granted
 * real-time scheduling.
 */
import type { ThreadScheduling } from '../../core/kernel/sched.ts';

export function electionThreadScheduling(main: ThreadScheduling): ThreadScheduling | null {
  if (main.policy !== 'fifo' && main.policy !== 'rr') return null;
  // Reset on fork: the exec health checks the thread never starts, and the helper threads it
  // might, stay at the default policy, as the unit asks of the main thread.
  return { policy: main.policy, priority: Math.min(main.priority + 1, 99), resetOnFork: true };
}
