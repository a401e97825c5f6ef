/**
 * The ownership labs' moves on a director pair (bench/ownership.ts and the restart lab test):
 * kill -9 with the unit's cleanup after it, one thread of a daemon frozen, and a director's
 * adverts recorded and played back.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../config/index.ts';
import { DSRD } from '../binaries.ts';
import type { Director, DirectorPair } from '../pair/director-pair.ts';
import type { LabProcess } from '../process.ts';
import { udpPayloads } from './pcap.ts';

const FREEZE = fileURLToPath(new URL('./freeze-thread.ts', import.meta.url));
const REPLAY = fileURLToPath(new URL('./replay-capture.ts', import.meta.url));
const PORT = DEFAULTS.election.port;

/** kill -9 of d's dsrd, then `dsrd --cleanup` at once, as the unit's ExecStopPost= runs it. */
export async function killAndCleanUp(pair: DirectorPair, d: Director): Promise<void> {
  await d.proc!.kill9();
  await pair.lab.exec(d.host, process.execPath, [DSRD, '--cleanup', '--config', d.configPath], {
    timeoutMs: 20_000,
  });
}

/** Freezes d's main thread alone (freeze-thread.ts) until the returned process is told to thaw it. */
export async function freezeMainThread(pair: DirectorPair, d: Director): Promise<LabProcess> {
  const p = pair.lab.spawn(pair.lab.clients[0], process.execPath, [FREEZE, '--tid', String(d.proc!.pid)]);
  await p.waitForLine(/^FROZEN/, 10_000);
  return p;
}

export async function thaw(frozen: LabProcess): Promise<void> {
  frozen.signal('SIGTERM');
  await frozen.waitForLine(/^THAWED/, 10_000);
}

/** `seconds` of `from`'s adverts as `at` receives them, recorded to `path`; how many. */
export async function recordAdverts(
  pair: DirectorPair,
  from: Director,
  at: Director,
  path: string,
  seconds: number,
): Promise<number> {
  const filter = `udp and src host ${from.host.ipv4} and dst port ${PORT}`;
  // -G N -W 1: tcpdump ends at its first rotation, N s in.
  await pair.lab.exec(
    at.host,
    'tcpdump',
    ['-i', 'eth0', '-G', String(seconds), '-W', '1', '-U', '-w', path, filter],
    {
      timeoutMs: (seconds + 15) * 1000,
    },
  );
  return udpPayloads(readFileSync(path)).length;
}

/** Plays the recording at `path` to `to` from `from`'s address and port, once; resolves once it plays. */
export async function replayAdverts(
  pair: DirectorPair,
  from: Director,
  to: Director,
  path: string,
): Promise<LabProcess> {
  const p = pair.lab.spawn(from.host, process.execPath, [
    REPLAY,
    '--pcap',
    path,
    '--from',
    from.host.ipv4,
    '--port',
    String(PORT),
    '--to',
    to.host.ipv4,
  ]);
  await p.waitForLine(/^REPLAYING/, 10_000);
  return p;
}
