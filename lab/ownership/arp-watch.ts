/**
 * The ARP probe (arp-probe.ts) run from a lab client: who answers ARP for a VIP every slot, from
 * start to stop, as the benchmark and the lab tests read it (arp-answers.ts analyses the result).
 */
import { fileURLToPath } from 'node:url';
import type { LabProcess } from '../process.ts';
import type { Host, Lab } from '../topology.ts';
import type { AnswerChanges } from './arp-answers.ts';

const ARP_PROBE = fileURLToPath(new URL('./arp-probe.ts', import.meta.url));

export interface ArpResult {
  slots: number;
  slotMs: number;
  /** Epoch ms of slot 0. */
  startedAt: number;
  maxSlipMs: number;
  changes: AnswerChanges;
}

export interface ArpWatch {
  /** The slot an epoch-ms time falls in. */
  slotAt(epochMs: number, result: ArpResult): number;
  stop(): Promise<ArpResult>;
}

/** Starts the probe in `client` (real-time priority 5, so the probe is not what stalls) and waits until it sends. */
export async function startArpWatch(
  lab: Lab,
  client: Host,
  vip: string,
  durationMs = 120_000,
): Promise<ArpWatch> {
  const args = ['--vip', vip, '--src', client.ipv4, '--mac', client.mac, '--duration-ms', String(durationMs)];
  const arp: LabProcess = lab.spawn(client, 'chrt', [
    '--reset-on-fork',
    '--fifo',
    '5',
    process.execPath,
    ARP_PROBE,
    ...args,
  ]);
  await arp.waitForLine(/^READY/, 10_000);
  return {
    slotAt: (epochMs, result) => Math.floor((epochMs - result.startedAt) / result.slotMs),
    async stop() {
      arp.signal('SIGTERM');
      const line = await arp.waitForLine(/^RESULT /, 10_000);
      await arp.kill9();
      return JSON.parse(line.slice('RESULT '.length)) as ArpResult;
    },
  };
}
