/** Runs the one-shot probe client (servers/probe.ts) inside a lab host. */
import { fileURLToPath } from 'node:url';
import { runIn } from './exec.ts';
import type { Host } from './topology.ts';

const PROBE = fileURLToPath(new URL('./servers/probe.ts', import.meta.url));

export interface ProbeResult {
  ok: boolean;
  answer?: string;
  error?: string;
  local?: string;
  ms: number;
}

export async function probe(
  from: Host,
  kind: 'http' | 'tcp' | 'udp',
  addr: string,
  port?: number,
  timeoutMs = 2000,
): Promise<ProbeResult> {
  const args = [PROBE, kind, addr, ...(port === undefined ? [] : [String(port)])];
  const { stdout } = await runIn(
    from.netns,
    'env',
    [`PROBE_TIMEOUT_MS=${timeoutMs}`, process.execPath, ...args],
    {
      timeoutMs: timeoutMs + 5000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as ProbeResult;
}
