/**
 * Everything an election group is given, as data: `ElectionGroup.step(now, input)` (./group.ts)
 * is the one entry point, in the manner of etcd raft's `Step`. Inputs are plain objects, so they
 * cross to the election thread by postMessage as they are (failover/thread/protocol.ts), and a
 * scenario script spells them as they are (test/failover/scenario-runner.ts).
 */
import type { DropReason } from '../drop-reasons.ts';
import type { ElectionMessage } from './messages.ts';

/**
 * From outside the protocol: the operator (resign, handover, release the hold), the config
 * (priority, fingerprint on reload) and the daemon's feeds (tracked conditions, sync readiness).
 * Illegal ones fail loudly with E_ILLEGAL_TRANSITION or E_ELECTION_INPUT and change nothing.
 */
export type ControlInput =
  /** Give up Master: priority 0 tells the backups to take over after Skew_Time; then hold. */
  | { readonly kind: 'resign' }
  /** Allow preemption again after a resign or a planned handover. */
  | { readonly kind: 'release-hold' }
  /** The configured priority, 1..254. */
  | { readonly kind: 'set-priority'; readonly priority: number }
  /** A tracked condition (named in ElectionOptions.tracked) fails or recovers. */
  | { readonly kind: 'set-condition'; readonly name: string; readonly failing: boolean }
  /** Sync gating: not in sync → no preemption and no planned handover to us; takeover still happens. */
  | { readonly kind: 'set-sync-ready'; readonly ready: boolean }
  /** The config fingerprint (16 bytes) after a reload. */
  | { readonly kind: 'set-fingerprint'; readonly fingerprint: Uint8Array }
  /**
   * Planned handover to the node id `target`, make-before-break (./handover.ts). `force` hands
   * over to a target that runs another config.
   */
  | { readonly kind: 'request-handover'; readonly target: number; readonly force: boolean };

export type ElectionInput =
  /** RFC 5798 §6.4.1 Startup event: Initialize → Backup (or Fault), listening one master-down interval. */
  | { readonly kind: 'start' }
  /** RFC 5798 §6.4.3 Shutdown event: a master sends priority 0; back to Initialize. */
  | { readonly kind: 'shutdown' }
  /** Time passed: due at `nextDeadline()` (timers: master-down, adverts, peer and handover timeouts). */
  | { readonly kind: 'tick' }
  /** A message from a peer that passed the codec's and the transport's checks. */
  | { readonly kind: 'message'; readonly message: ElectionMessage }
  /**
   * Our master adverts went out until `until` (the clock of `now`) without us (the advert keeper,
   * failover/thread/advert-keeper.ts): a master that was not scheduled meanwhile was not silent to
   * its peers, so the next input does not fence it. Recorded only: no output, no clock reading.
   */
  | { readonly kind: 'covered'; readonly until: number }
  /** The codec or transport dropped a packet for this group: counted for the status only. */
  | { readonly kind: 'dropped'; readonly reason: DropReason }
  | ControlInput;
