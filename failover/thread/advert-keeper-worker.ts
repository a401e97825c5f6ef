/**
 * The advert keeper's thread (./advert-keeper.ts): a socket of its own, the election thread's
 * session and keys, and one loop that asks AdvertCover whether to speak for the election thread.
 * It sends nothing while the election thread sends; it never reads a peer's message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { keyringFromMaterial } from '../../core/auth/key-material.ts';
import { SenderSession } from '../../core/auth/session.ts';
import {
  describeScheduling,
  setThreadAffinity,
  setThreadScheduling,
  threadScheduling,
} from '../../core/kernel/sched.ts';
import { ElectionTransport } from '../transport/election-transport.ts';
import { AdvertCover } from './advert-cover.ts';
import { CoverBoard } from './cover-board.ts';
import type { FromKeeper, KeeperData, ToKeeper } from './protocol.ts';

if (parentPort === null) throw new Error('advert-keeper-worker.ts runs as a worker thread');
const port = parentPort;
const data = workerData as KeeperData;
const post = (m: FromKeeper): void => port.postMessage(m);
const now = (): number => Number(process.hrtime.bigint() - data.clockOriginNs) / 1e6;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const board = new CoverBoard(data.slots, data.board);
const cover = new AdvertCover(board, data.limitMs);
let timer: ReturnType<typeof setTimeout> | undefined;

function setup(): string[] {
  const problems: string[] = [];
  // Not fatal, like the election thread's own: the keeper still covers, less surely.
  try {
    if (data.scheduling !== null) setThreadScheduling(data.scheduling);
  } catch (err) {
    problems.push(`scheduling: ${message(err)}`);
  }
  try {
    if (data.cpu !== null) setThreadAffinity([data.cpu]);
  } catch (err) {
    problems.push(`affinity: ${message(err)}`);
  }
  return problems;
}

async function start(): Promise<void> {
  const problems = setup();
  const t = data.transport;
  const transport = new ElectionTransport({
    nodeId: data.nodeId,
    // Any port: peers check a sender's address, not its port.
    bind: { ...t.bind, port: 0 },
    peers: t.peers,
    multicast: t.multicast === null ? null : { ...t.multicast, port: t.bind.port },
    keyring: keyringFromMaterial(t.keys, t.keyPurpose),
    session: new SenderSession(data.session.id, data.session.wallMs, data.session.monoMs, board.sequence),
    clock: { mono: now, wall: () => Date.now() },
    onMessage: () => {},
    onError: () => board.count('sendErrors'),
  });
  await transport.start();
  const loop = (): void => {
    const adverts = cover.check(now());
    if (adverts.length > 0) transport.send(adverts.map((m) => ({ to: 'all' as const, message: m })));
    timer = setTimeout(loop, cover.checkEveryMs());
  };
  port.on('message', (m: ToKeeper) => {
    if (m.type === 'templates') {
      cover.setTemplates(m.epoch, m.templates);
    } else if (m.type === 'keys') {
      transport.setKeyring(keyringFromMaterial(m.keys, t.keyPurpose));
    } else if (m.type === 'stop') {
      clearTimeout(timer);
      void transport.close().finally(() => port.close());
    }
  });
  loop();
  post({ type: 'ready', scheduling: describeScheduling(threadScheduling()), problems });
}

start().catch((err: unknown) => {
  post({ type: 'start-failed', message: message(err) });
  port.close();
});
