/**
 * A daemon whose wall clock is off: what a director rebooted without a time source sees. Time
 * namespaces cannot do it (they offset only the monotonic and boot clocks), so the process runs
 * with libfaketime preloaded (package faketime, installed by scripts/setup), shifting
 * CLOCK_REALTIME alone: the monotonic clock, which every timer and the election use, stays true.
 *
 * A command prefix for DirectorPair's `launch`. `env` replaces itself with the daemon, so the pid
 * the lab holds is the daemon's (the `faketime` wrapper would fork, and a kill -9 would miss it).
 */
import { existsSync } from 'node:fs';

const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
];

/** The libfaketime library for threaded programs, or null when it is not installed. */
export function fakeTimeLibrary(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** `env ...` that runs the command with its wall clock `seconds` behind (negative: ahead). */
export function clockBehind(seconds: number): string[] {
  const lib = fakeTimeLibrary();
  if (lib === null)
    throw new Error('libfaketime is not installed (scripts/setup installs the faketime package)');
  return ['env', `LD_PRELOAD=${lib}`, `FAKETIME=${-seconds}`, 'FAKETIME_DONT_FAKE_MONOTONIC=1'];
}
