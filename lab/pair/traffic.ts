/**
 * Client traffic through a VIP for the pair's tests, the demo and the benchmarks: the long-lived
 * TCP streams (lab/servers/streams.ts), driven over stdin, and the persistence clients
 * (lab/servers/pinned-clients.ts).
 */
import { fileURLToPath } from 'node:url';
import type { LabProcess } from '../process.ts';
import type { Host, Lab } from '../topology.ts';
import { waitFor } from '../wait.ts';

const STREAMS = fileURLToPath(new URL('../servers/streams.ts', import.meta.url));
const PINNED_CLIENTS = fileURLToPath(new URL('../servers/pinned-clients.ts', import.meta.url));

/** A stream tool report. */
export interface StreamsReport {
  count: number;
  alive: number;
  withErrors: number;
  maxDelayMs: number;
  medianMaxDelayMs: number;
  sent: number;
  echoed: number;
  bytes: number;
  loopDelayMaxMs: number;
  servers: Record<string, number>;
  streams: {
    id: number;
    server: string;
    localPort: number;
    maxDelayMs: number;
    errors: string[];
    sent: number;
    echoed: number;
  }[];
}

/** Starts `count` streams from `client` to the VIP's TCP echo and waits until every one is greeted. */
export async function startStreams(
  lab: Lab,
  client: Host,
  vip: string,
  count: number,
): Promise<{ proc: LabProcess; servers: Record<string, number> }> {
  const proc = lab.node(client, STREAMS, ['--addr', vip, '--count', String(count)], { stdin: true });
  const ready = JSON.parse(await proc.waitForLine(/^\{"ready"/, 15_000)) as {
    ready: { servers: Record<string, number> };
  };
  return { proc, servers: ready.ready.servers };
}

/** Asks the stream tool for its figures so far ('report'), or the last ones as it stops ('final'). */
export async function streamsReport(
  proc: LabProcess,
  kind: 'report' | 'final' = 'report',
): Promise<StreamsReport> {
  const seen = proc.lines.length;
  proc.write(kind === 'report' ? 'report' : 'stop');
  const line = await waitFor(
    `the stream tool's ${kind}`,
    () => proc.lines.slice(seen).find((l) => l.startsWith(`{"${kind}"`)),
    { limitMs: 10_000, detail: () => proc.stderrTail.join('\n') },
  );
  return (JSON.parse(line) as Record<string, StreamsReport>)[kind];
}

/** Runs the persistence clients once from `client`: which real server answered each request of each source. */
export async function pinnedClients(
  lab: Lab,
  client: Host,
  vip: string,
  sources: readonly string[],
  count: number,
): Promise<{ byClient: Record<string, string[]>; errors: string[] }> {
  const args = [PINNED_CLIENTS, '--addr', vip, '--count', String(count)];
  for (const s of sources) args.push('--from', s);
  const { stdout } = await lab.exec(client, process.execPath, args, { timeoutMs: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}
