/** Applies `log.level` from the config at start and on reload (dsrctl log level overrides until then). */
import type { LogRoot } from '../../core/log.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { DaemonPart, PartContext } from '../part.ts';

export class LogLevelPart implements DaemonPart {
  readonly name = 'log';
  readonly #root: LogRoot;

  constructor(root: LogRoot) {
    this.#root = root;
  }

  start(ctx: PartContext): void {
    this.#root.setLevel(ctx.config.log.level);
  }

  stop(): void {}

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'log');
  }

  reload(change: ConfigChange): void {
    this.#root.setLevel(change.next.log.level);
  }

  status(): unknown {
    return { level: this.#root.level };
  }
}
