/**
 * Lab: the refresh walk, end to end with real daemons. UDP flows and persistence clients are kept
 * alive on the active (frames through its program, over the daemon's pins) for three of their
 * timeouts. Their packets report nothing after the first (only a new entry is an event), so after
 * the first timeout plus the margin the standby holds them only because the active's sync thread
 * walks its tables and sends every live entry of ours again each refresh period. At the end every
 * live entry of the active is live on the standby too, by the standby's own clock and timeouts.
 */
import test from 'ava';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import { requireRoot } from '../../lab/index.ts';
import { HTTP_PERSISTENT, TCP_ECHO, UDP_ECHO } from '../../lab/pair/config.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { syncStatus } from '../../lab/pair/status.ts';
import { presence } from '../../lab/sync/presence.ts';
import { Traffic } from '../../lab/sync/traffic.ts';
import { sleep } from '../../lab/wait.ts';

const TIMEOUT_S = 6;
const REFRESH_S = 5;
/** Traffic every ROUND_S for ROUNDS rounds: 20 s, past the first entries' 6 s + the 10 s margin. */
const ROUND_S = 4;
const ROUNDS = 5;
const UDP_FLOWS = 500;
const PERSIST_CLIENTS = 100;

const skip = requireRoot();
if (skip) console.log(`sync refresh lab test skipped: ${skip}`);
const serial = skip ? test.skip : test.serial;

serial(
  'the standby holds entries only the refresh walk carries, past their timeout and the margin',
  async (t) => {
    const pair = await DirectorPair.create({
      services: [TCP_ECHO, { ...HTTP_PERSISTENT, persistence: { timeout_s: TIMEOUT_S } }, UDP_ECHO],
      timers: { udp_s: TIMEOUT_S },
      sync: { refresh_s: REFRESH_S },
    });
    try {
      await pair.startBoth();
      const active = createForwarderInstance({ load: { pinDir: pair.pinDir(pair.a) } });
      const standby = createForwarderInstance({ load: { pinDir: pair.pinDir(pair.b) } });
      const traffic = await Traffic.start({
        pinDir: pair.pinDir(pair.a),
        directorMac: pair.a.host.mac,
        vip: pair.vip,
        tcpPort: TCP_ECHO.port,
        udpPort: UDP_ECHO.port,
        persistPort: HTTP_PERSISTENT.port,
      });
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const t0 = performance.now();
          await traffic.run({ op: 'udp', from: 20_000_000, count: UDP_FLOWS });
          await traffic.run({ op: 'syn', from: 21_000_000, count: PERSIST_CLIENTS, round });
          await sleep(Math.max(0, ROUND_S * 1000 - (performance.now() - t0)));
        }
        const p = presence(active, standby);
        t.log(JSON.stringify(p));
        t.true(p.liveConns >= UDP_FLOWS + PERSIST_CLIENTS, `${p.liveConns} live connections on the active`);
        t.is(p.livePersist, PERSIST_CLIENTS);
        t.is(p.missingConns, 0, 'every live connection is live on the standby');
        t.is(p.missingPersist, 0, 'every live persistence entry is live on the standby');
        const refresh = (syncStatus((await pair.status(pair.a))!) as { refresh: { passes: number } }).refresh;
        t.true(refresh.passes >= 3, `${refresh.passes} refresh passes`);
      } finally {
        await traffic.stop();
        active.close();
        standby.close();
      }
    } finally {
      await pair.destroy();
    }
  },
);
