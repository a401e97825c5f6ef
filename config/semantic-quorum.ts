/**
 * The cross-field rules of quorum mode (docs/quorum.md) and of a director's role: who votes, who
 * is a witness, what a witness may not configure, and timing every voter must be able to keep.
 */
import type { IssueCollector } from './issues.ts';
import type { Sections } from './semantic-util.ts';

/**
 * A director needs an interface and a VIP group; a witness owns nothing. (A section that failed
 * the schema is not in `s` at all; one that is absent from the file is, as undefined.)
 */
export function checkRole(out: IssueCollector, s: Sections): void {
  if (s.node === undefined || s.node.role === 'director') {
    const required = [
      ['interfaces', 'interfaces', 'interface'],
      ['vip_groups', 'VIP groups', 'VIP group'],
    ] as const;
    for (const [section, plural, one] of required) {
      if (!(section in s)) continue;
      const list = s[section];
      if (list === undefined)
        out.add('semantic', [section], `missing required section (expected a list of ${plural})`);
      else if (list.length === 0)
        out.add('semantic', [section], `expected at least one ${one}, found an empty list`);
    }
    return;
  }
  if (s.election && s.election.mode !== 'raft') {
    out.add('semantic', ['node', 'role'], 'a witness votes in quorum mode only: set election.mode: raft');
  }
  const owned = [
    ['interfaces', s.interfaces],
    ['vip_groups', s.vip_groups],
    ['services', s.services],
    ['health_checks', s.health_checks],
  ] as const;
  for (const [section, list] of owned) {
    if (list !== undefined && list.length > 0) {
      out.add(
        'semantic',
        [section],
        `a witness forwards nothing and owns no VIP: remove ${section} (node.role is witness)`,
      );
    }
  }
}

/**
 * Quorum mode: at least three voters; few enough witnesses that entries can commit (a witness
 * holds no log, failover/raft/voters.ts); heartbeats at most half the election timeout, so the
 * lease outlives a lost one; Raft's port apart from the sync's.
 */
export function checkQuorum(out: IssueCollector, s: Sections): void {
  if (!s.election || !s.peers || !s.node) return;
  const { election, peers, node } = s;
  if (election.mode !== 'raft') {
    peers.forEach((p, i) => {
      if (p.witness)
        out.add(
          'semantic',
          ['peers', i, 'witness'],
          'witnesses vote in quorum mode only: set election.mode: raft',
        );
    });
    return;
  }
  const voters = peers.length + 1;
  if (voters < 3) {
    out.add(
      'semantic',
      ['election', 'mode'],
      `quorum mode needs at least three voters (two directors and a witness, or three directors), found ${voters}`,
    );
    return;
  }
  const witnesses = peers.filter((p) => p.witness).length + (node.role === 'witness' ? 1 : 0);
  const commitQuorum = voters - (Math.floor(voters / 2) + 1) + 1;
  if (voters - witnesses < commitQuorum) {
    out.add(
      'semantic',
      ['peers'],
      `too many witnesses: ${witnesses} of ${voters} voters hold no log, and ${commitQuorum} directors must hold an entry for it to commit`,
    );
  }
  const { raft } = election;
  if (raft.heartbeat_interval_ms * 2 > raft.election_timeout_ms) {
    out.add(
      'semantic',
      ['election', 'raft', 'heartbeat_interval_ms'],
      `expected at most half of election.raft.election_timeout_ms (${raft.election_timeout_ms}), so a lease outlives a lost heartbeat, found ${raft.heartbeat_interval_ms}`,
    );
  }
  if (s.sync && s.sync.port === raft.port) {
    out.add(
      'semantic',
      ['election', 'raft', 'port'],
      `expected a port other than sync.port (${s.sync.port})`,
    );
  }
}
