/**
 * Process signals for dsrd: SIGHUP reloads; SIGTERM and SIGINT stop gracefully (a second one
 * while stopping is logged and ignored: the stop is already bounded by the parts' stop timeouts,
 * and systemd's TimeoutStopSec bounds the rest).
 */
import type { Logger } from '../core/log.ts';
import { errorFields } from '../core/log.ts';

export interface Stoppable {
  reload(source: string): Promise<unknown>;
  stop(reason: string): Promise<void>;
}

export function installSignalHandlers(
  daemon: Stoppable,
  log: Logger,
  proc: NodeJS.Process = process,
): () => void {
  let stopping = false;
  const onHup = (): void => {
    if (stopping) return;
    // The reload logs its own outcome; a failed reload keeps the old config.
    daemon.reload('SIGHUP').catch(() => undefined);
  };
  const onStop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'already stopping');
      return;
    }
    stopping = true;
    daemon.stop(signal).catch((err) => log.error(errorFields(err), 'stop failed'));
  };
  proc.on('SIGHUP', onHup);
  proc.on('SIGTERM', onStop);
  proc.on('SIGINT', onStop);
  return () => {
    proc.off('SIGHUP', onHup);
    proc.off('SIGTERM', onStop);
    proc.off('SIGINT', onStop);
  };
}
