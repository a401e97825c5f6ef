/**
 * Lab: the sync over IPv6, end to end with real daemons. The directors speak to each other over
 * IPv6 (election and sync), the VIP and the real servers are IPv6, so every entry travels in its
 * IPv6 form (16-byte addresses) from the active's program through its ring, its sync thread and
 * the wire into the standby's table. Long-lived TCP streams through the VIP survive a kill -9 of
 * the active, and the standby's `dsrctl conns` listed them beforehand.
 */
import test from 'ava';
import { dsrctl } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { TCP_ECHO } from '../../lab/pair/config.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { role, syncPeer } from '../../lab/pair/status.ts';
import { streamsReport } from '../../lab/pair/traffic.ts';
import { sleep } from '../../lab/wait.ts';

const STREAMS = 20;

const skip = requireRoot();
if (skip) console.log(`IPv6 sync lab test skipped: ${skip}`);
const serial = skip ? test.skip : test.serial;

serial(
  'IPv6 end to end: the standby holds the streams of an IPv6 VIP and they survive a kill -9 of the active',
  async (t) => {
    const pair = await DirectorPair.create({ family: 6, services: [TCP_ECHO] });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      t.regex(pair.vip, /:/, 'an IPv6 VIP');
      const { proc: streams } = await pair.streams(STREAMS);
      await pair.until(b, (s) => (syncPeer(s)?.applied ?? 0) >= STREAMS);
      const conns = await dsrctl(['-s', b.sock, 'conns', '--json']);
      t.is(conns.code, 0, conns.stderr);
      const listed = (JSON.parse(conns.stdout) as { entries: { vip: string; client: string }[] }).entries;
      const v6 = listed.filter((e) => e.vip === pair.vip && e.client.includes(':'));
      t.true(v6.length >= STREAMS, `the standby lists ${v6.length} IPv6 connections of the VIP`);

      streams.write('reset');
      await a.proc!.kill9();
      await pair.until(b, (s) => role(s) === 'master', 10_000);
      await sleep(3000);
      const r = await streamsReport(streams, 'final');
      t.log(
        `${r.alive}/${r.count} streams alive after the kill, ${r.withErrors} with errors, max stall ${r.maxDelayMs} ms`,
      );
      t.is(r.alive, r.count);
      t.is(r.withErrors, 0, 'no stream was reset');
      t.true(r.echoed > STREAMS * 20, 'the streams kept moving data through the new active');
    } finally {
      await pair.destroy();
    }
  },
);
