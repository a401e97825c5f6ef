/**
 * Human wording of alert events, shared by the Slack and Alertmanager
 * formatters so an operator reads the same sentence everywhere.
 */
import type { AlertEvent } from './events.ts';

export interface EventText {
  /** One line, no trailing period: fits a chat header or an alert summary. */
  title: string;
  /** One or two sentences with the numbers that matter. */
  detail: string;
}

function secs(n: number): string {
  if (n < 1) return `${Math.round(n * 1000)} ms`;
  return `${Number(n.toFixed(n < 10 ? 2 : 1))} s`;
}

export function describeEvent(e: AlertEvent): EventText {
  const on = `on ${e.node}`;
  switch (e.type) {
    case 'became_master':
    case 'became_backup':
    case 'became_fault': {
      const role = e.type.slice('became_'.length).toUpperCase();
      return {
        title: `${e.node} became ${role} for group ${e.group}`,
        detail: `Was ${e.previous.toUpperCase()}. Reason: ${e.reason}.`,
      };
    }
    case 'failover_completed':
      return {
        title: `Failover of group ${e.group} completed ${on}`,
        detail:
          `Took ${secs(e.durationSeconds)}` +
          (e.reason ? ` (${e.reason})` : '') +
          `, sync lag ${secs(e.syncLagSeconds)}` +
          (e.syncInSync === undefined
            ? ''
            : e.syncInSync
              ? `, in sync (${e.syncBehindMessages ?? 0} messages behind)`
              : `, NOT in sync (${e.syncBehindMessages ?? 0} messages behind)`) +
          (e.previousMaster ? `, previous master ${e.previousMaster}.` : '.'),
      };
    case 'quorum_lost':
      return {
        title: `${e.node} lost the quorum`,
        detail: `It hears ${e.reachable.join(', ')} of the voters ${e.voters.join(', ')}: no majority and no leader, so no leader stands on its side and it holds no VIP.`,
      };
    case 'quorum_regained':
      return {
        title: `${e.node} reaches a quorum again`,
        detail: `It hears ${e.reachable.join(', ')}; it had no majority for ${secs(e.downSeconds)}.`,
      };
    case 'leader_changed':
      return {
        title: `${e.node} leads (Raft term ${e.term})`,
        detail: `${e.previous ? `The previous leader was ${e.previous}. ` : ''}It holds the VIP groups while a majority grants it the lease.`,
      };
    case 'peer_lost':
      return {
        title: `Peer ${e.peer} lost ${on}`,
        detail:
          e.lastHeardSecondsAgo === undefined
            ? 'No adverts from the peer.'
            : `Last heard ${secs(e.lastHeardSecondsAgo)} ago.`,
      };
    case 'peer_recovered':
      return {
        title: `Peer ${e.peer} recovered ${on}`,
        detail: e.downSeconds === undefined ? 'Adverts resumed.' : `Was gone for ${secs(e.downSeconds)}.`,
      };
    case 'split_brain_detected':
      return {
        title: `Split brain in group ${e.group}`,
        detail: `More than one master: ${e.masters.join(', ')}.`,
      };
    case 'vip_conflict':
      return {
        title: `Another MAC claims VIP ${e.vip} of group ${e.group}`,
        detail: `${e.mac} claims ${e.vip} (ARP or ND), which ${e.node} holds as master from ${e.ownMac}; announced again. A zombie director, or a real server answering ARP/ND for the VIP (arp_ignore/arp_announce)?`,
      };
    case 'split_brain_resolved':
      return {
        title: `Split brain in group ${e.group} resolved`,
        detail: e.master ? `Single master now: ${e.master}.` : 'A single master remains.',
      };
    case 'fingerprint_mismatch':
      return {
        title: `Config fingerprint differs between ${e.node} and ${e.peer}`,
        detail: `Local ${e.localFingerprint}, peer ${e.peerFingerprint}. Directors may pick different real servers.`,
      };
    case 'fingerprint_match':
      return {
        title: `Config fingerprint of ${e.node} and ${e.peer} agrees again`,
        detail: `Fingerprint ${e.fingerprint}.`,
      };
    case 'real_server_down':
      return {
        title: `Real server ${e.realServer} of ${e.service} is DOWN`,
        detail: `Reason: ${e.reason}.`,
      };
    case 'real_server_up':
      return {
        title: `Real server ${e.realServer} of ${e.service} is UP`,
        detail: 'Health checks pass again.',
      };
    case 'service_down':
      return {
        title: `Service ${e.service} is DOWN`,
        detail: `No healthy real server. Reason: ${e.reason}.`,
      };
    case 'service_up':
      return { title: `Service ${e.service} is UP`, detail: `${e.realServersUp} real server(s) healthy.` };
    case 'drain_complete': {
      const closing = e.closingFlows > 0 ? ` ${e.closingFlows} closing flow(s) time out on their own.` : '';
      return e.outcome === 'timed_out'
        ? {
            title: `Drain of ${e.realServer} from ${e.service} TIMED OUT`,
            detail: `Gave up after ${secs(e.durationSeconds)} with ${e.remainingFlows} open flow(s) left.${closing}`,
          }
        : {
            title: `Drain of ${e.realServer} from ${e.service} complete`,
            detail: `No open flow left after ${secs(e.durationSeconds)}.${closing}`,
          };
    }
    case 'sync_lag_high':
      return {
        title: `Sync lag high ${on}${e.peer ? ` towards ${e.peer}` : ''}`,
        detail: `Lag ${secs(e.lagSeconds)} is above the threshold ${secs(e.thresholdSeconds)}.`,
      };
    case 'sync_lag_normal':
      return {
        title: `Sync lag back to normal ${on}${e.peer ? ` towards ${e.peer}` : ''}`,
        detail: `Lag ${secs(e.lagSeconds)} is below the threshold ${secs(e.thresholdSeconds)}.`,
      };
    case 'drill_result':
      return {
        title: `Failover drill of group ${e.group} ${e.passed ? 'PASSED' : 'FAILED'}`,
        detail:
          (e.outageSeconds === undefined ? '' : `Client-visible outage ${secs(e.outageSeconds)}. `) +
          e.detail,
      };
    case 'heartbeat':
      return {
        title: `${e.node} is still master`,
        detail: `Groups: ${e.groups.join(', ') || '(none)'}.`,
      };
    case 'test':
      return { title: `Test alert from ${e.node}`, detail: e.message };
  }
}
