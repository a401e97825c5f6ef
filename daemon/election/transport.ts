/** What the election thread's transport is started with: sockets, peers, keys and replay state. */
import { randomInt } from 'node:crypto';
import type { Config } from '../../config/index.ts';
import { keyMaterialFromConfig } from '../../core/auth/key-material.ts';
import { ELECTION_KEY_PURPOSE } from '../../core/auth/keyring.ts';
import { nextSessionId } from '../../core/auth/session-store.ts';
import { DsrError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { ElectionThreadData } from '../../failover/index.ts';
import { loadReplaySeeds } from '../replay-record.ts';

export function electionTransport(
  c: Config,
  ids: ReadonlyMap<string, number>,
  log: Logger,
): NonNullable<ElectionThreadData['transport']> {
  if (c.keys.election === null)
    throw new DsrError('E_PART_START', 'peers are configured but keys.election is not');
  const family = (c.node.address ?? c.peers[0].address).includes(':') ? 'ipv6' : 'ipv4';
  return {
    bind: { address: c.node.address, port: c.election.port, family },
    peers: c.peers.map((p) => ({ nodeId: ids.get(p.id)!, name: p.id, address: p.address, port: p.port })),
    multicast: c.election.multicast,
    keys: keyMaterialFromConfig(c.keys.election),
    keyPurpose: ELECTION_KEY_PURPOSE,
    // On disk before the thread sends anything under it (core/auth/session-store.ts).
    sessionId: nextSessionId(c.node.stateDir, 'election', Date.now(), randomInt(0x10000)),
    replaySeeds: loadReplaySeeds(c.node.stateDir, 'replay-election.json', log),
  };
}
