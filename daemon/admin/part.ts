/**
 * The admin socket as a daemon part. It starts first: it doubles as the lock that keeps a second
 * dsrd off this director (start fails if a daemon answers on the socket) before anything touches
 * the kernel, and it stops last, so `dsrctl status` works through startup and shutdown.
 */

import { resolveGroupId } from '../../admin/groups.ts';
import type { CommandRegistry } from '../../admin/registry.ts';
import { AdminServer } from '../../admin/server.ts';
import type { AdminConfig } from '../../config/index.ts';
import type { Logger } from '../../core/log.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { DaemonPart, PartContext } from '../part.ts';

export class AdminPart implements DaemonPart {
  readonly name = 'admin';
  readonly #registry: CommandRegistry;
  #server: AdminServer | undefined;
  #log: Logger | undefined;

  constructor(registry: CommandRegistry) {
    this.#registry = registry;
  }

  #make(admin: AdminConfig, log: Logger): AdminServer {
    return new AdminServer({
      path: admin.socket,
      registry: this.#registry,
      log,
      mode: admin.mode,
      gid: admin.group === null ? undefined : resolveGroupId(admin.group),
    });
  }

  async start(ctx: PartContext): Promise<void> {
    this.#log = ctx.log;
    const server = this.#make(ctx.config.admin, ctx.log);
    await server.start();
    this.#server = server;
  }

  async stop(): Promise<void> {
    await this.#server?.stop();
    this.#server = undefined;
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'admin');
  }

  async reload(change: ConfigChange): Promise<void> {
    const next = change.next.admin;
    const current = this.#server;
    if (current === undefined || this.#log === undefined) return;
    if (next.socket !== current.path) {
      // Make before break: the new socket listens before the old one goes, so a failure leaves
      // the old one in place.
      const moved = this.#make(next, this.#log);
      await moved.start();
      this.#server = moved;
      await current.stop();
      return;
    }
    current.setPermissions(next.mode, next.group === null ? undefined : resolveGroupId(next.group));
  }

  status(): unknown {
    const s = this.#server;
    return s === undefined
      ? {}
      : { socket: s.path, connections: s.connections, requests: s.requests, badRequests: s.badRequests };
  }
}
