/**
 * What a part of dsrd gets from the daemon, and the part type the daemon runs.
 *
 * A part is constructed by the parts registry (parts.ts) with whatever other parts it
 * needs (the election gets the VIP manager and the forwarder), then started by the supervisor
 * with this context. See supervisor.ts for the lifecycle contract.
 */

import type { CommandRegistry } from '../admin/registry.ts';
import type { Config } from '../config/index.ts';
import type { EventLoopMonitor } from '../core/eventloop.ts';
import type { Logger } from '../core/log.ts';
import type { ConfigChange } from './change.ts';
import type { Part } from './supervisor.ts';

export interface PartContext {
  /** The config in force when the part starts; later ones arrive through reload(change). */
  config: Config;
  /** The config in force now (after any reloads), for a part that reads it lazily. */
  currentConfig(): Config;
  /** A logger bound to { part: name }; follows runtime level changes. */
  log: Logger;
  /** Register admin commands here (and unregister them in stop()). */
  admin: CommandRegistry;
  /** The main thread's event-loop delay and stalls, for status and metrics. */
  eventLoop: EventLoopMonitor;
  /** Aborted when the daemon begins to stop. */
  signal: AbortSignal;
  /** The part cannot go on (e.g. its kernel state was taken away): the daemon stops with an error. */
  fatal(err: unknown): void;
}

export type DaemonPart = Part<PartContext, ConfigChange>;
