/**
 * `dsrctl status` as text: the node, its VIP groups and peers, then the services in the layout
 * operators know from `ipvsadm -L -n` (service line, then one "->" line per real server).
 */
import type { DaemonStatus, ServiceStatus } from '../../admin/catalogue/status.ts';
import { electionLine } from './election.ts';
import { quorumLine } from './quorum.ts';
import { duration, hostPort, orDash, table } from './table.ts';
import { vipConflictLine } from './vip.ts';

function services(list: readonly ServiceStatus[]): string {
  if (list.length === 0) return 'Services: none configured\n';
  // One column per meaning, service lines and "->" real-server lines alike (as ipvsadm -L -n).
  const rows: string[][] = [
    ['Prot', 'VIP:Port / -> Real server', 'State', 'Weight', 'Flows', 'Closing', 'Persistent', 'Service'],
  ];
  const sum = (s: ServiceStatus, field: 'activeFlows' | 'closingFlows' | 'persistentClients'): string =>
    s.realServers.every((r) => r[field] === null)
      ? '-'
      : String(s.realServers.reduce((n, r) => n + (r[field] ?? 0), 0));
  for (const s of list) {
    const persist = s.persistenceTimeoutS === null ? '' : ` persistence ${s.persistenceTimeoutS}s`;
    rows.push([
      s.protocol.toUpperCase(),
      hostPort(s.vip, s.port),
      s.state,
      '',
      sum(s, 'activeFlows'),
      sum(s, 'closingFlows'),
      s.persistenceTimeoutS === null ? '' : sum(s, 'persistentClients'),
      `${s.name} ${s.scheduler}${persist}`,
    ]);
    for (const r of s.realServers) {
      const weight =
        r.weight === r.configuredWeight ? String(r.weight) : `${r.weight} (${r.configuredWeight})`;
      // An idle sorry server is at weight 0 in the forwarder, which is no drain worth showing.
      const idle = r.forwarding === 'draining' && r.sorry === true;
      const fwd = r.forwarding === undefined || r.forwarding === 'active' || idle ? '' : `/${r.forwarding}`;
      rows.push([
        '  ->',
        r.sorry === true ? `${hostPort(r.address, s.port)} (sorry)` : hostPort(r.address, s.port),
        `${r.state}${fwd}`,
        weight,
        orDash(r.activeFlows),
        orDash(r.closingFlows),
        s.persistenceTimeoutS === null ? '' : orDash(r.persistentClients),
        '',
      ]);
    }
  }
  return table(rows);
}

export function formatStatus(s: DaemonStatus): string {
  const fp = s.config.fingerprint === null ? '-' : s.config.fingerprint.slice(0, 12);
  let out = `Node ${s.node}  pid ${s.pid}  ${s.state}  up ${duration(s.uptimeS * 1000)}  dsrd ${s.version}\n`;
  out += `Config ${s.config.path}  fingerprint ${fp}  loaded ${s.config.loadedAt}\n`;
  const r = s.config.lastReload;
  if (r !== null)
    out += `Last reload ${r.at}: ${r.ok ? 'applied' : `FAILED, old config kept: ${r.error?.split('\n')[0]}`}\n`;
  const el = s.eventLoop;
  out += `Event loop delay p99 ${el.delayP99Ms} ms, max ${el.delayMaxMs} ms; stalls ${el.stalls}`;
  out +=
    el.lastStall === null
      ? '\n'
      : ` (last ${duration(el.lastStall.agoMs)} ago, ${el.lastStall.gapMs} ms${el.lastStall.cause === null ? '' : `, ${el.lastStall.cause}`})\n`;
  const broken = s.parts.filter((p) => p.state !== 'running');
  out += `Parts ${s.parts.map((p) => p.name).join(', ')}`;
  out +=
    broken.length === 0 ? '\n' : `; NOT RUNNING: ${broken.map((p) => `${p.name} (${p.state})`).join(', ')}\n`;
  out += electionLine(s.parts);
  out += quorumLine(s.parts);
  out += vipConflictLine(s.parts);
  out += '\n';
  if (s.groups.length > 0) {
    out += 'VIP groups\n';
    out += table(
      [
        ['Group', 'Id', 'Role', 'Prio', 'Master', 'VIPs'],
        ...s.groups.map((g) => [
          g.name,
          String(g.id),
          g.reason === undefined ? g.role : `${g.role} (${g.reason})`,
          g.effectivePriority === null || g.effectivePriority === g.priority
            ? String(g.priority)
            : `${g.effectivePriority}/${g.priority}`,
          orDash(g.master),
          g.vips.join(' '),
        ]),
      ],
      '  ',
    );
    out += '\n';
  }
  if (s.peers.length > 0) {
    out += 'Peers\n';
    out += table(
      [
        ['Peer', 'Address', 'Last heard', 'Config', 'Sync'],
        ...s.peers.map((p) => [
          p.id,
          p.address,
          p.lastHeardMs === null ? 'never' : `${duration(p.lastHeardMs)} ago`,
          p.fingerprintMatch === null ? '-' : p.fingerprintMatch ? 'same' : 'DIFFERENT',
          orDash(p.sync),
        ]),
      ],
      '  ',
    );
    out += '\n';
  }
  out += services(s.services);
  return out;
}
