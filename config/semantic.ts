/**
 * Rules across fields and sections: names unique, references resolve, address families agree,
 * keys present when there is someone to authenticate. Each rule runs when the sections it reads
 * passed the schema, so a broken section does not hide the errors of the others.
 */
import { canonicalIp, ipFamily, parseIp } from '../core/net/ip.ts';
import type { IssueCollector } from './issues.ts';
import type { FieldPath } from './positions.ts';
import type { RawKeyRing } from './schema.ts';
import { checkQuorum, checkRole } from './semantic-quorum.ts';
import { checkHealthCheckSection, checkServices } from './semantic-services.ts';
import { familyName, listNames, reportDuplicates, type Sections } from './semantic-util.ts';

function checkPeers(out: IssueCollector, s: Sections): void {
  if (!s.peers) return;
  const peers = s.peers;
  reportDuplicates(
    out,
    peers,
    (p) => p.id,
    (i) => ['peers', i, 'id'],
    'peer id',
  );
  reportDuplicates(
    out,
    peers,
    (p) => `${canonicalIp(p.address)} ${p.port ?? s.election?.port ?? ''}`,
    (i) => ['peers', i, 'address'],
    'peer address and port',
  );
  if (!s.node) return;
  const node = s.node;
  const nodeFamily = node.address === undefined ? null : ipFamily(node.address);
  peers.forEach((p, i) => {
    if (p.id === node.id) {
      out.add('semantic', ['peers', i, 'id'], `peer id "${p.id}" is this node's own id (node.id)`);
    }
    if (node.address !== undefined && canonicalIp(p.address) === canonicalIp(node.address)) {
      out.add(
        'semantic',
        ['peers', i, 'address'],
        `peer address ${p.address} is this node's own address (node.address)`,
      );
    }
    const pf = parseIp(p.address).family;
    if (nodeFamily !== null && pf !== nodeFamily) {
      out.add(
        'semantic',
        ['peers', i, 'address'],
        `expected an ${familyName(nodeFamily)} address like node.address (the election socket binds it), found ${familyName(pf)} ${p.address}`,
      );
    }
  });
}

function checkElection(out: IssueCollector, s: Sections): void {
  if (!s.election || !s.node) return;
  const { election, node } = s;
  if (election.transport !== 'multicast' || node.address === undefined) return;
  const gf = parseIp(election.multicast.group).family;
  const nf = parseIp(node.address).family;
  if (gf !== nf) {
    out.add(
      'semantic',
      ['election', 'multicast', 'group'],
      `expected an ${familyName(nf)} group like node.address, found ${familyName(gf)} ${election.multicast.group}`,
    );
  }
}

function checkVipGroups(out: IssueCollector, s: Sections): void {
  if (s.interfaces) {
    reportDuplicates(
      out,
      s.interfaces,
      (x) => x.name,
      (i) => ['interfaces', i, 'name'],
      'interface name',
    );
  }
  if (!s.vip_groups) return;
  const groups = s.vip_groups;
  reportDuplicates(
    out,
    groups,
    (g) => g.name,
    (i) => ['vip_groups', i, 'name'],
    'VIP group name',
  );
  reportDuplicates(
    out,
    groups,
    (g) => String(g.id),
    (i) => ['vip_groups', i, 'id'],
    'VIP group id',
  );
  const vips = groups.flatMap((g, i) =>
    g.vips.map((v, j) => ({ v: canonicalIp(v), path: ['vip_groups', i, 'vips', j] })),
  );
  reportDuplicates(
    out,
    vips,
    (x) => x.v,
    (k) => vips[k].path,
    'VIP (a VIP belongs to one group)',
  );

  const interfaceNames = s.interfaces?.map((x) => x.name);
  const serviceNames = s.services?.map((x) => x.name);
  groups.forEach((g, i) => {
    const at = (...rest: (string | number)[]): FieldPath => ['vip_groups', i, ...rest];
    if (interfaceNames && g.interface !== undefined && !interfaceNames.includes(g.interface)) {
      out.add(
        'semantic',
        at('interface'),
        `unknown interface "${g.interface}" (interfaces: ${listNames(interfaceNames)})`,
      );
    }
    const track = g.track;
    reportDuplicates(
      out,
      track.interfaces,
      (t) => t.name,
      (j) => at('track', 'interfaces', j, 'name'),
      'tracked interface',
    );
    reportDuplicates(
      out,
      track.scripts,
      (t) => t.name,
      (j) => at('track', 'scripts', j, 'name'),
      'tracked script name',
    );
    reportDuplicates(
      out,
      track.services,
      (t) => t.name,
      (j) => at('track', 'services', j, 'name'),
      'tracked service',
    );
    if (serviceNames) {
      track.services.forEach((t, j) => {
        if (!serviceNames.includes(t.name)) {
          out.add(
            'semantic',
            at('track', 'services', j, 'name'),
            `unknown service "${t.name}" (services: ${listNames(serviceNames)})`,
          );
        }
      });
    }
  });
}

function checkRing(out: IssueCollector, ring: RawKeyRing, path: FieldPath): void {
  reportDuplicates(
    out,
    ring.keys,
    (k) => String(k.id),
    (j) => [...path, 'keys', j, 'id'],
    'key id',
  );
  const ids = [...new Set(ring.keys.map((k) => k.id))];
  if (ring.send_id === undefined) {
    if (ring.keys.length > 1) {
      out.add(
        'semantic',
        [...path, 'send_id'],
        `missing required field (expected the id of the key to sign with, one of ${ids.join(', ')}, while two keys are listed)`,
      );
    }
  } else if (!ids.includes(ring.send_id)) {
    out.add(
      'semantic',
      [...path, 'send_id'],
      `expected one of the listed key ids (${ids.join(', ')}), found ${ring.send_id}`,
    );
  }
}

function checkKeys(out: IssueCollector, s: Sections): void {
  if (s.keys) {
    checkRing(out, s.keys.election, ['keys', 'election']);
    if (s.keys.sync) checkRing(out, s.keys.sync, ['keys', 'sync']);
    return;
  }
  const why =
    s.peers && s.peers.length > 0
      ? 'peers are configured'
      : s.election?.transport === 'multicast'
        ? 'the election uses multicast'
        : null;
  if (why !== null) {
    out.add(
      'semantic',
      ['keys'],
      `missing required section (${why}, so election and sync messages must be authenticated: add keys.election)`,
      'key',
      why === 'peers are configured' ? ['peers'] : ['election', 'transport'],
    );
  }
}

function checkSync(out: IssueCollector, s: Sections): void {
  if (!s.sync?.peers) return;
  const syncPeers = s.sync.peers;
  reportDuplicates(
    out,
    syncPeers,
    (p) => p.id,
    (i) => ['sync', 'peers', i, 'id'],
    'sync peer id',
  );
  if (!s.peers) return;
  const ids = s.peers.map((p) => p.id);
  const nodeFamily = s.node?.address === undefined ? null : ipFamily(s.node.address);
  syncPeers.forEach((p, i) => {
    if (!ids.includes(p.id)) {
      out.add('semantic', ['sync', 'peers', i, 'id'], `unknown peer "${p.id}" (peers: ${listNames(ids)})`);
    }
    if (p.address !== undefined && nodeFamily !== null && ipFamily(p.address) !== nodeFamily) {
      out.add(
        'semantic',
        ['sync', 'peers', i, 'address'],
        `expected an ${familyName(nodeFamily)} address like node.address, found ${p.address}`,
      );
    }
  });
}

function checkAlerts(out: IssueCollector, s: Sections): void {
  if (!s.alerts) return;
  const targets = s.alerts.targets;
  reportDuplicates(
    out,
    targets,
    (t) => t.name,
    (i) => ['alerts', 'targets', i, 'name'],
    'alert target name',
  );
  targets.forEach((t, i) => {
    if (t.events) {
      reportDuplicates(
        out,
        t.events,
        (e) => e,
        (j) => ['alerts', 'targets', i, 'events', j],
        'event',
      );
    }
  });
}

export function checkSemantics(out: IssueCollector, sections: Sections): void {
  checkRole(out, sections);
  checkPeers(out, sections);
  checkElection(out, sections);
  checkQuorum(out, sections);
  checkVipGroups(out, sections);
  checkHealthCheckSection(out, sections);
  checkServices(out, sections);
  checkKeys(out, sections);
  checkSync(out, sections);
  checkAlerts(out, sections);
}
