/**
 * Every dsrctl command, in help order. A new command (failover, drill, drain, alerts test...) is a
 * module exporting a CommandModule, added to this list.
 */
import type { CommandModule } from '../program.ts';
import { alertsCommand } from './alerts.ts';
import { configCommand } from './config.ts';
import { connsCommand } from './conns.ts';
import { drainCommands } from './drain.ts';
import { drillCommand } from './drill.ts';
import { explainCommand } from './explain.ts';
import { failoverCommand } from './failover.ts';
import { keysCommand } from './keys.ts';
import { logCommand } from './log.ts';
import { maintenanceCommand } from './maintenance.ts';
import { pairCommand } from './pair.ts';
import { realserverCommand } from './realserver.ts';
import { statusCommand } from './status.ts';

export const COMMANDS: readonly CommandModule[] = [
  statusCommand,
  configCommand,
  connsCommand,
  explainCommand,
  drainCommands,
  failoverCommand,
  drillCommand,
  maintenanceCommand,
  logCommand,
  realserverCommand,
  pairCommand,
  keysCommand,
  alertsCommand,
];
