/**
 * Messages of the election protocol, as the state machine sees them (the wire codec adds the
 * session, sequence number, timestamp, key id and MAC).
 *
 * Every message carries the sender's status (priority, state, interval, config fingerprint, sync
 * readiness), so any message refreshes what we know of that peer. Unlike VRRP (RFC 5798), where
 * only the Master advertises, Backup and Fault directors also send adverts: they are heartbeats that
 * let every director list its peers, compare config fingerprints and see who is in sync. Only
 * adverts in state `master` take part in the election rules.
 */

export type ElectionState = 'initialize' | 'backup' | 'master' | 'fault';

/** States a director advertises (it sends nothing in Initialize). */
export type AdvertisedState = Exclude<ElectionState, 'initialize'>;

export const FINGERPRINT_BYTES = 16;

export interface SenderStatus {
  readonly groupId: number;
  readonly from: number;
  /** Effective priority 0..254; 0 from a Master means "I resign" (RFC 5798 §6.4.3 Shutdown). */
  readonly priority: number;
  readonly state: AdvertisedState;
  readonly intervalMs: number;
  /** First 16 bytes of the SHA-256 of the sender's normalised config. */
  readonly fingerprint: Uint8Array;
  readonly syncReady: boolean;
  /**
   * Adverts only: how far into its advert interval the sender sent this one, in 1/256 of the
   * interval (0 for the interval's first, or when omitted). With several adverts per interval
   * (timing.ts) a backup restarts Master_Down_Timer from the interval's first advert, as RFC 5798
   * §6.4.2 would with one, however many of the others it received.
   */
  readonly phase?: number;
}

export interface AdvertMessage extends SenderStatus {
  readonly kind: 'advert';
}

/** The current master asks `to` to take over (planned handover, make-before-break). */
export interface HandoverRequestMessage extends SenderStatus {
  readonly kind: 'handover-request';
  readonly to: number;
  readonly token: number;
}

export type HandoverRejectReason = 'not-backup' | 'not-sync-ready' | 'fault' | 'not-from-master';

export const HANDOVER_REJECT_REASONS: readonly HandoverRejectReason[] = [
  'not-backup',
  'not-sync-ready',
  'fault',
  'not-from-master',
];

/** The target of a handover request refuses it. */
export interface HandoverRejectMessage extends SenderStatus {
  readonly kind: 'handover-reject';
  readonly to: number;
  readonly token: number;
  readonly reason: HandoverRejectReason;
}

export type ElectionMessage = AdvertMessage | HandoverRequestMessage | HandoverRejectMessage;

/** A message the state machine wants sent: to every peer, or to one. */
export interface Outgoing {
  readonly to: number | 'all';
  readonly message: ElectionMessage;
}
