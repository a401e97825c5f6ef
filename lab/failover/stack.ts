/**
 * A "director stack" is whatever runs the election and owns the VIP on the
 * lab's directors: keepalived (the baseline) or dsrd (ours). The benchmark
 * drives every stack through this one interface, so both are measured by the
 * same trials, the same probe and the same fault injection.
 */
import type { Host, Lab } from '../index.ts';
import type { VipHolders } from './vip-holders.ts';

/** Unplanned faults, injected on the current master. */
export type FaultKind = 'link-down' | 'kill9' | 'sigstop';

/** Every case of the benchmark: the unplanned faults and a planned handover. */
export type CaseKind = FaultKind | 'planned';

export const FAULT_KINDS: readonly FaultKind[] = ['link-down', 'kill9', 'sigstop'];
export const CASE_KINDS: readonly CaseKind[] = [...FAULT_KINDS, 'planned'];

export interface StackOptions {
  /** Election advert interval (ms). */
  advertMs: number;
  vip: string;
  /** UDP port of the service the probe uses (the real servers' echo). */
  port: number;
  /** Scratch directory for config, pid and key files (removed by the caller). */
  workDir: string;
}

export interface InjectedFault {
  kind: CaseKind;
  /** The director the fault was injected on (the master at that time). */
  host: Host;
  /** Epoch ms when the fault took effect. */
  at: number;
  /** Undoes the fault: link up, process restarted, SIGCONT, old master back as a backup. */
  restore(): Promise<void>;
}

/** A director's own count of election stalls since it started (dsrd: the election part's status). */
export interface StallCounts {
  /** Stalls after which it re-learned its peers (a master steps down first). */
  relearned: number;
  /** Stalls of a master that its advert keeper spoke through. */
  covered: number;
  /** Covers the keeper ended at its time limit. */
  keeperLimit: number;
}

export interface DirectorStack {
  readonly name: string;
  readonly advertMs: number;
  /** Starts the stack on every director of `lab`; resolves once one director holds the VIP. */
  start(lab: Lab, opts: StackOptions): Promise<void>;
  /** The director that holds the VIP now, if exactly one does. */
  master(): Host | null;
  /** How long a backup waits for a silent master (for the SIGSTOP hold and timeouts). */
  masterDownMs(): number;
  /** The VIP holder history (master changes), watched from the kernel. */
  holders(): VipHolders;
  /** How the stack's election thread runs, if it has one and says (dsrd: "fifo 11, reset on fork"). */
  readonly electionThread?: string | null;
  /** Why the masters changed since `since` (epoch ms), from the stack's own logs, if it says. */
  explainChanges?(since: number): string[];
  /** Per director name, its stall counts now, if the stack keeps any; a director not answering is left out. */
  stallCounts?(): Promise<Map<string, StallCounts>>;
  /** Injects an unplanned fault on the current master. */
  fault(kind: FaultKind): Promise<InjectedFault>;
  /** Hands the VIP over from the current master the way an operator would. */
  planned(): Promise<InjectedFault>;
  /** Waits until exactly one director holds the VIP and nothing has changed for a quiet period. */
  settle(timeoutMs: number): Promise<Host>;
  /** Stops every process and removes every rule the stack added. Safe to call twice. */
  stop(): Promise<void>;
}
