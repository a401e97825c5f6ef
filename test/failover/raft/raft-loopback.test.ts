/**
 * Three Raft voters over real authenticated UDP on loopback (127.0.0.1 only), each with its state
 * on disk: an election, a command applied everywhere, the leader stopped and a successor, the old
 * leader restarted from its disk, a transfer, and forged packets dropped and counted. All three
 * share this process's clock, so "never two lease holders" is checked on every lease change against
 * one clock. Timing is reached, never asserted.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import test from 'ava';
import { Keyring, RAFT_KEY_PURPOSE } from '../../../core/auth/keyring.ts';
import { newSessionId, SenderSession } from '../../../core/auth/session.ts';
import { RaftNode } from '../../../failover/raft/node.ts';
import { RaftRunner } from '../../../failover/raft/runner.ts';
import { RaftStorage } from '../../../failover/raft/storage.ts';
import { RaftTransport } from '../../../failover/raft/transport.ts';
import { encodeRaftPacket } from '../../../failover/raft/wire/encode.ts';
import { until } from '../../../lab/wait.ts';

const WAIT = { limitMs: 5000, everyMs: 5 };
const ring = new Keyring([{ id: 1, secret: Buffer.alloc(32, 0x42) }], 1).derive(RAFT_KEY_PURPOSE);
const wrongRing = new Keyring([{ id: 1, secret: Buffer.alloc(32, 0x43) }], 1).derive(RAFT_KEY_PURPOSE);
const clock = { mono: () => performance.now(), wall: () => Date.now() };
const IDS = [1, 2, 3];
const T = 60;

async function freePorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => {
      const socket = createSocket('udp4');
      return new Promise<ReturnType<typeof createSocket>>((resolve) =>
        socket.bind(0, '127.0.0.1', () => resolve(socket)),
      );
    }),
  );
  const ports = sockets.map((socket) => socket.address().port);
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  return ports;
}

interface Voter {
  runner: RaftRunner;
  transport: RaftTransport;
  applied: string[];
  failures: unknown[];
}

test('three voters over UDP: one lease holder at a time, commands everywhere, restarts from disk, transfer, forgeries dropped', async (t) => {
  const ports = await freePorts(3);
  const dirs = IDS.map((id) => mkdtempSync(join(tmpdir(), `dsr-raft-${id}-`)));
  const voters = new Map<number, Voter>();
  const overlaps: string[] = [];

  // Each voter's last announced lease, kept after it stops: the VIPs' deadline outlives the daemon.
  const leases = new Map<number, number | null>();
  const holders = () =>
    [...leases].filter(([, until]) => until !== null && until > clock.mono()).map(([id]) => id);

  async function startVoter(id: number): Promise<Voter> {
    const storage = RaftStorage.open(dirs[id - 1] as string);
    const node = new RaftNode(
      {
        id,
        voters: IDS,
        witnesses: [],
        electionTimeoutMs: T,
        electionJitterMs: 60,
        heartbeatIntervalMs: 10,
        maxDriftRatio: 0.005,
        releaseMarginMs: 5,
        maxEntriesPerAppend: 16,
        random: Math.random,
      },
      storage.state,
    );
    const peers = IDS.filter((p) => p !== id).map((p) => ({
      nodeId: p,
      name: `d${p}`,
      address: '127.0.0.1',
      port: ports[p - 1] as number,
    }));
    const voter: Voter = {
      runner: null as never,
      transport: null as never,
      applied: [],
      failures: [],
    };
    voter.transport = new RaftTransport({
      nodeId: id,
      bind: { address: '127.0.0.1', port: ports[id - 1] as number, family: 'ipv4' },
      peers,
      keyring: ring,
      electionTimeoutMs: T,
      session: new SenderSession(newSessionId(Date.now(), id), Date.now(), clock.mono()),
      clock,
      budget: { perSecond: 2000, burst: 200 },
      onMessage: (message) => voter.runner.deliver(message),
    });
    voter.runner = new RaftRunner(node, storage, {
      now: clock.mono,
      send: (to, message) => voter.transport.send(to, message),
      onEffects: (effects) => {
        for (const effect of effects) {
          if (effect.type !== 'lease') continue;
          leases.set(id, effect.until);
          if (holders().length > 1) overlaps.push(`${holders().join(', ')} at ${clock.mono().toFixed(1)}`);
        }
      },
      onRestore: () => {
        voter.applied = [];
      },
      onCommitted: (entries) => {
        for (const entry of entries)
          if (entry.data.length > 0) voter.applied.push(Buffer.from(entry.data).toString());
      },
      onFailure: (error) => voter.failures.push(error),
    });
    voters.set(id, voter);
    await voter.transport.start();
    voter.runner.start();
    return voter;
  }

  async function stopVoter(id: number): Promise<void> {
    const voter = voters.get(id) as Voter;
    voter.runner.stop();
    await voter.transport.close();
    voters.delete(id);
  }

  const leader = () =>
    [...voters.keys()].find((id) => voters.get(id)?.runner.node.role === 'leader' && holders().includes(id));

  try {
    for (const id of IDS) await startVoter(id);
    await until('a leader holding the lease', () => leader() !== undefined, WAIT);
    const first = leader() as number;

    (voters.get(first) as Voter).runner.input({ kind: 'propose', data: Buffer.from('drain rs1') });
    await until(
      'the command applied on every voter',
      () => [...voters.values()].every((v) => v.applied.includes('drain rs1')),
      WAIT,
    );

    const termBefore = (voters.get(first) as Voter).runner.node.term;
    await stopVoter(first);
    await until('a successor holding the lease', () => leader() !== undefined && leader() !== first, WAIT);

    const restarted = await startVoter(first);
    t.true(restarted.runner.node.term >= termBefore, 'the term came back from disk');
    await until(
      'the restarted voter follows and has the command again',
      () => restarted.runner.node.leader !== 0 && restarted.applied.includes('drain rs1'),
      WAIT,
    );

    const current = leader() as number;
    const target = IDS.find((id) => id !== current) as number;
    (voters.get(current) as Voter).runner.input({ kind: 'transfer', target });
    await until('the transfer target holding the lease', () => leader() === target, WAIT);

    // Forgeries from 127.0.0.1 (a voters' address): another key, and a replay of nothing genuine.
    const forger = createSocket('udp4');
    await new Promise<void>((resolve) => forger.bind(0, '127.0.0.1', () => resolve()));
    const timeoutNow = { type: 'timeout-now' as const, from: current, term: 99 };
    const stamp = { session: 9n, seq: 1n, timestampMs: Date.now() };
    const forged = encodeRaftPacket(timeoutNow, { to: target, electionTimeoutMs: T }, stamp, wrongRing);
    for (let i = 0; i < 5; i++) forger.send(forged, ports[target - 1] as number, '127.0.0.1');
    // Signed with the right key by a voter that runs another election timeout.
    const mistimed = encodeRaftPacket(timeoutNow, { to: target, electionTimeoutMs: T * 2 }, stamp, ring);
    forger.send(mistimed, ports[target - 1] as number, '127.0.0.1');
    forger.send(Buffer.from('not raft at all'), ports[target - 1] as number, '127.0.0.1');
    await until(
      'the forgeries counted',
      () => {
        const drops = (voters.get(target) as Voter).transport.stats().drops;
        return (
          (drops['bad-mac'] ?? 0) >= 5 && (drops['too-short'] ?? 0) >= 1 && drops['timing-mismatch'] === 1
        );
      },
      WAIT,
    );
    await new Promise<void>((resolve) => forger.close(() => resolve()));
    t.is(leader(), target, 'no forged TimeoutNow moved leadership');

    t.deepEqual(overlaps, [], 'never two lease holders');
    t.deepEqual(
      [...voters.values()].flatMap((v) => v.failures),
      [],
    );
  } finally {
    for (const id of [...voters.keys()]) await stopVoter(id);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
