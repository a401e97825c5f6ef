/**
 * Why an election packet was dropped: one catalogue for the codec, the transport and the state
 * machine, so status and metrics count every drop under one name. A drop never changes state.
 */
export const DROP_REASONS = {
  // codec, before authentication
  'too-short': 'shorter than the fixed header',
  'bad-magic': 'does not start with the election magic',
  'bad-version': 'protocol version we do not speak',
  'bad-type': 'unknown message type',
  'bad-length': 'length field does not match the packet or the type',
  'unknown-key': 'key id not in our keyring',
  'bad-mac': 'HMAC-SHA256 does not match: forged or corrupted',
  // codec, after authentication
  'bad-field': 'authenticated, but a field is out of range (incompatible or buggy peer)',
  replay: 'already seen, older than the replay window, or from an earlier session of the peer',
  stale: 'held back too long, or a new session whose timestamp is outside the clock-skew window',
  'decoder-error': 'the decoder hit an unexpected condition (a bug: report it)',
  // transport, before authentication
  'unknown-source': 'not from the address of any configured peer (dropped before the MAC)',
  'over-budget':
    "more datagrams from a peer's address than its groups send: a flood (dropped before the MAC)",
  // transport
  'unknown-peer': 'sender node id is not in the peer list',
  'source-mismatch': 'sender address does not match the configured address of that node id',
  self: 'our own node id (looped-back multicast)',
  'unknown-group': 'group id not configured here',
  // state machine
  'not-started': 'the group has not been started (Initialize)',
  'wrong-group': 'delivered to the wrong group (driver bug)',
  'not-for-us': 'a handover or Raft message addressed to another node',
  'timing-mismatch': 'a Raft voter runs another election timeout: every voter must run the same',
  'unexpected-reply': 'handover reply that matches no pending request',
} as const;

export type DropReason = keyof typeof DROP_REASONS;

export type DropCounters = Partial<Record<DropReason, number>>;

export function countDrop(counters: DropCounters, reason: DropReason): void {
  counters[reason] = (counters[reason] ?? 0) + 1;
}
