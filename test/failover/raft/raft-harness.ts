/** Small helpers for Raft transcript tests: nodes with fixed timing, and picking messages out of outputs. */
import { RaftNode } from '../../../failover/raft/node.ts';
import type { RaftOptions } from '../../../failover/raft/options.ts';
import {
  EMPTY_STATE,
  type PersistedState,
  type RaftMessage,
  type RaftOutgoing,
  type RaftOutput,
} from '../../../failover/raft/types.ts';

/** T = 50, no jitter (random 0), heartbeats every 10 ms, ρ = 0.005, M = 1: the lease is 48 ms. */
export const T = 50;
export const HEARTBEAT = 10;
export const LEASE = 48;

export function raftNode(
  id: number,
  overrides: Partial<RaftOptions> = {},
  persisted: PersistedState = EMPTY_STATE,
): RaftNode {
  return new RaftNode(
    {
      id,
      voters: [1, 2, 3],
      witnesses: [],
      electionTimeoutMs: T,
      electionJitterMs: 0,
      heartbeatIntervalMs: HEARTBEAT,
      maxDriftRatio: 0.005,
      releaseMarginMs: 1,
      maxEntriesPerAppend: 8,
      random: () => 0,
      ...overrides,
    },
    persisted,
  );
}

export type Of<T extends RaftMessage['type']> = Extract<RaftMessage, { type: T }>;

/** The one message of `type` to `to` in `out` (fails the test by throwing when there is not exactly one). */
export function only<T extends RaftMessage['type']>(out: RaftOutput, type: T, to: number): Of<T> {
  const found = out.messages.filter((m: RaftOutgoing) => m.to === to && m.message.type === type);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} to ${to}, got ${JSON.stringify(out.messages.map((m) => [m.to, m.message.type]))}`,
    );
  }
  return (found[0] as RaftOutgoing).message as Of<T>;
}

export function types(out: RaftOutput): string[] {
  return out.messages.map((m) => `${m.message.type}>${m.to}`);
}

export function leaseOf(out: RaftOutput): number | null | undefined {
  const effect = out.effects.find((e) => e.type === 'lease');
  return effect?.type === 'lease' ? effect.until : undefined;
}

/** Delivers `message` to `node` at `now`. */
export function deliver(node: RaftNode, now: number, message: RaftMessage): RaftOutput {
  return node.step(now, { kind: 'message', message });
}

/**
 * Three started voters (at 0, 5 and 10); voter 1's timer fires first, at T, and it is elected at
 * T + 10 with voter 2's votes; voter 2 answers its first append (the no-op commits) and voter 3
 * follows it. Returns the nodes and the time.
 */
export function electedCluster(overrides: Partial<RaftOptions> = {}): {
  nodes: [RaftNode, RaftNode, RaftNode];
  now: number;
} {
  const nodes = [1, 2, 3].map((id) => raftNode(id, overrides)) as [RaftNode, RaftNode, RaftNode];
  for (const [i, node] of nodes.entries()) node.step(i * 5, { kind: 'start' });
  const [a, b, c] = nodes;
  const pre = a.step(T, { kind: 'tick' });
  const now = T + 10; // past voter 2's promise from its start (5 + T)
  const campaign = deliver(a, now, only(deliver(b, now, only(pre, 'pre-vote', 2)), 'pre-vote-response', 1));
  const won = deliver(a, now, only(deliver(b, now, only(campaign, 'vote', 2)), 'vote-response', 1));
  deliver(a, now, only(deliver(b, now, only(won, 'append', 2)), 'append-response', 1));
  deliver(c, now, only(won, 'append', 3));
  return { nodes, now };
}
