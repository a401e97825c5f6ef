/**
 * Lab: the sync at scale with real daemons. The active holds 300,000 connections in its pinned
 * table (written there directly, as a busy director would hold them); the standby is restarted
 * three times while it pulls them, then left to finish. The active must stay small and
 * responsive throughout (every bulk is read in chunks on the sync's own thread, one at a time:
 * a standby that asks again never makes the active read a second copy), and the standby must end
 * in sync holding every entry. Serial: it is measured on both cores.
 */
import { readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { callDaemon } from '../../admin/client.ts';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import { requireRoot } from '../../lab/index.ts';
import { TCP_ECHO } from '../../lab/pair/config.ts';
import { type Director, DirectorPair } from '../../lab/pair/director-pair.ts';
import { role, syncPeer } from '../../lab/pair/status.ts';
import { sleep } from '../../lab/wait.ts';

const ENTRIES = 300_000;
const RESTARTS = 3;

const skip = requireRoot();
if (skip) console.log(`sync scale lab test skipped: ${skip}`);
const serial = skip ? test.skip : test.serial;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

/** How the active fared while the standby pulled: its largest RSS and its slowest status answer. */
class ActiveWatch {
  maxRssMb = 0;
  maxRttMs = 0;
  readonly #stop: AbortController = new AbortController();
  readonly #done: Promise<void>;

  constructor(d: Director) {
    const pid = d.proc!.pid;
    this.#done = (async () => {
      while (!this.#stop.signal.aborted) {
        this.maxRssMb = Math.max(this.maxRssMb, rssMb(pid));
        const t0 = performance.now();
        await callDaemon(d.sock, 'status', {}, { timeoutMs: 5000 });
        this.maxRttMs = Math.max(this.maxRttMs, performance.now() - t0);
        await sleep(50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#done;
  }
}

function countConns(pair: DirectorPair, d: Director): number {
  const view = createForwarderInstance({ load: { pinDir: pair.pinDir(d) } });
  try {
    return view.tables.countConns();
  } finally {
    view.close();
  }
}

async function fill(t: ExecutionContext, pair: DirectorPair): Promise<void> {
  const view = createForwarderInstance({ load: { pinDir: pair.pinDir(pair.a) } });
  try {
    const written = view.fillConnTable(ENTRIES, {
      service: `tcp/${pair.vip}:${TCP_ECHO.port}`,
      real: pair.lab.realServers[0].ipv4,
    });
    t.is(written, ENTRIES);
  } finally {
    view.close();
  }
}

serial(
  'a standby restarted again and again beside 300k flows: the active stays small and responsive, the standby ends in sync with them all',
  async (t) => {
    const pair = await DirectorPair.create({ services: [TCP_ECHO] });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      await fill(t, pair);
      const rss0 = rssMb(a.proc!.pid);
      const watch = new ActiveWatch(a);
      const t0 = performance.now();
      try {
        for (let i = 0; i < RESTARTS; i++) {
          await b.proc!.stop();
          await pair.start(b);
          await sleep(500); // its bulk is under way when it goes again
        }
        await pair.until(
          b,
          (s) =>
            role(s) === 'backup' &&
            syncPeer(s)?.inSync === true &&
            (syncPeer(s)?.bulkEntries ?? 0) >= ENTRIES,
          120_000,
        );
      } finally {
        await watch.stop();
      }
      const took = (performance.now() - t0) / 1000;
      const onB = countConns(pair, b);
      const sb = syncPeer((await pair.status(b))!)!;
      t.log(
        `${ENTRIES} entries; standby restarted ${RESTARTS} times, then in sync ${took.toFixed(1)} s after the first ` +
          `restart; it holds ${onB}; its last bulk carried ${sb.bulkEntries}. Active: RSS ${rss0.toFixed(0)} MB before, ` +
          `${watch.maxRssMb.toFixed(0)} MB at most; slowest status answer ${watch.maxRttMs.toFixed(0)} ms`,
      );
      t.true(onB >= ENTRIES, `the standby holds ${onB} of ${ENTRIES}`);
      t.true(watch.maxRssMb - rss0 < 150, `the active grew by ${(watch.maxRssMb - rss0).toFixed(0)} MB`);
      t.true(
        watch.maxRttMs < 500,
        `the active's main thread answered within ${watch.maxRttMs.toFixed(0)} ms`,
      );
      t.is(role((await pair.status(a))!), 'master', 'the active stayed master throughout');
    } finally {
      await pair.destroy();
    }
  },
);
