/** Shared pieces for alert tests: temp dirs, a capturing logger, recording timers. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { AlertLogger, EngineTimers } from '../../alerts/engine.ts';

export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dsr-alerts-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

export function captureLogger(): { logger: AlertLogger; lines: LogLine[]; text: () => string } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return {
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    lines,
    text: () => lines.map((l) => JSON.stringify(l)).join('\n'),
  };
}

/** Real timers that also record every delay asked for. */
export function recordingTimers(): { timers: EngineTimers; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    timers: {
      setTimeout(fn, ms) {
        delays.push(ms);
        return setTimeout(fn, ms);
      },
      clearTimeout(h) {
        clearTimeout(h as NodeJS.Timeout);
      },
    },
  };
}

/**
 * Timers that fire only when the test says so: `fireAll()` runs every due
 * callback. The delays asked for are recorded.
 */
export function manualTimers(): {
  timers: EngineTimers;
  delays: number[];
  pending: () => number;
  fireAll: () => void;
} {
  const delays: number[] = [];
  const queue = new Map<number, () => void>();
  let next = 1;
  return {
    delays,
    pending: () => queue.size,
    fireAll() {
      const fns = [...queue.values()];
      queue.clear();
      for (const f of fns) f();
    },
    timers: {
      setTimeout(fn, ms) {
        delays.push(ms);
        const id = next++;
        queue.set(id, fn);
        return id;
      },
      clearTimeout(h) {
        queue.delete(h as number);
      },
    },
  };
}
