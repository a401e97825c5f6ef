/**
 * `dsrctl maintenance on|off` (issue 25): a director an operator is working on stays backup until
 * turned off, across restarts. On: the state is recorded first (node.state_dir/maintenance.json,
 * written atomically), then each group this director masters is handed over to the peer
 * (make-before-break, handover.ts) and every group's priority drops to MAINTENANCE_PRIORITY, so it
 * never preempts; a restarted director starts with that priority. Off: the configured priorities
 * come back and the preemption hold is released, so the preferred director takes its groups back
 * (make-before-break, as any preemption).
 *
 * Still a backup, not Fault: if the peer dies, this director takes over. A director under
 * maintenance is better than no director; an operator who must keep it out entirely stops dsrd.
 */
import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import type { MaintenanceResult } from '../../admin/catalogue/election.ts';
import type { CommandRegistry } from '../../admin/registry.ts';
import { readStateFile, writeStateFile } from '../../core/auth/state-file.ts';
import { DsrError } from '../../core/errors.ts';
import { errorFields, type Logger } from '../../core/log.ts';
import { type HandoverElection, handOver } from './handover.ts';

/** The lowest priority a backup may have (RFC 5798 §5.2.4: 1..254 for backups). */
export const MAINTENANCE_PRIORITY = 1;
const FILE = 'maintenance.json';

export interface MaintenanceState {
  on: boolean;
  since: string | null;
}

/**
 * The recorded state; off when there is no record. A damaged record is an error (the election part
 * then stays backup, the safe side, and says so).
 */
export function readMaintenance(stateDir: string): MaintenanceState {
  const text = readStateFile(stateDir, FILE);
  if (text === null) return { on: false, since: null };
  try {
    const v = JSON.parse(text) as { on?: unknown; since?: unknown };
    if (typeof v.on !== 'boolean') throw new Error('no "on"');
    return { on: v.on, since: typeof v.since === 'string' ? v.since : null };
  } catch (e) {
    throw new DsrError(
      'E_STATE_FILE',
      `${stateDir}/${FILE} is damaged (${(e as Error).message}); remove it, then dsrctl maintenance on|off`,
      { file: FILE },
    );
  }
}

/**
 * The state a starting election takes: the record, or on when it is damaged (the safe side is
 * backup: never preempt on a guess), each case told to the operator.
 */
export function loadMaintenance(stateDir: string, log: Logger): MaintenanceState {
  let state: MaintenanceState;
  try {
    state = readMaintenance(stateDir);
  } catch (e) {
    state = { on: true, since: null };
    log.error({ err: errorFields(e) }, 'the maintenance record is damaged: staying backup as if it were on');
  }
  if (state.on) {
    log.warn(
      { since: state.since, priority: MAINTENANCE_PRIORITY },
      'maintenance is on: this director stays backup (dsrctl maintenance off ends it)',
    );
  }
  return state;
}

/** What maintenance needs of the election part, beyond a handover. */
export interface MaintenanceElection extends HandoverElection {
  readonly stateDir: string;
  /** The group's configured priority. */
  configuredPriority(groupId: number): number;
  /** Whether this director is master of the group now. */
  isMaster(groupId: number): boolean;
  /** Sets maintenance for reloads and restarts (the priority a reload must not restore). */
  setMaintenance(state: MaintenanceState): void;
}

export function registerMaintenanceCommand(
  registry: CommandRegistry,
  election: MaintenanceElection,
): () => void {
  return registry.handle(CATALOGUE.maintenance, async ({ on }) => {
    const state: MaintenanceState = { on, since: on ? new Date().toISOString() : null };
    let since: string | null = null;
    try {
      since = readMaintenance(election.stateDir).since;
    } catch {
      // Damaged: this command writes a good record over it.
    }
    if (on && since !== null) state.since = since;
    // Recorded before anything moves: a crash half-way restarts in the state asked for.
    writeStateFile(election.stateDir, FILE, `${JSON.stringify(state)}\n`);
    election.setMaintenance(state);
    const groups: MaintenanceResult['groups'] = [];
    const peers = [...election.names].filter(([id]) => id !== election.nodeId);
    for (const g of election.groups.values()) {
      const name = g.config.name;
      if (!on) {
        await election.input(g.id, { kind: 'set-priority', priority: election.configuredPriority(g.id) });
        await election.input(g.id, { kind: 'release-hold' });
        groups.push({
          group: name,
          ok: true,
          action: `priority back to ${election.configuredPriority(g.id)}`,
        });
        continue;
      }
      let action = 'backup';
      let ok = true;
      if (election.isMaster(g.id) && peers.length > 0) {
        const [targetId, targetName] = peers[0];
        try {
          const r = await handOver(election, name, g.id, targetId, { force: false });
          ok = r.ok;
          action = r.ok
            ? `handed over to ${targetName} in ${r.ms} ms`
            : `handover to ${targetName} failed: ${r.outcome}`;
        } catch (e) {
          ok = false;
          action = `handover to ${targetName} refused: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      await election.input(g.id, { kind: 'set-priority', priority: MAINTENANCE_PRIORITY });
      groups.push({
        group: name,
        ok,
        action: ok ? action : `${action}; priority ${MAINTENANCE_PRIORITY}: the peer takes over when it can`,
      });
    }
    return { on: state.on, since: state.since, groups };
  });
}
