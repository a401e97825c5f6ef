/** Shared fixtures for the election wire tests: keys, sessions and message generators. */
import fc from 'fast-check';
import { Keyring } from '../../core/auth/keyring.ts';
import { newSessionId, SenderSession } from '../../core/auth/session.ts';
import type { AdvertisedState, ElectionMessage } from '../../failover/election/messages.ts';
import { HANDOVER_REJECT_REASONS } from '../../failover/election/messages.ts';

export const WALL0 = 1_800_000_000_000;
export const keyA = Buffer.alloc(32, 0x5a);
export const keyB = Buffer.alloc(32, 0xa5);
export const ring = new Keyring([{ id: 1, secret: keyA }], 1);
export const otherRing = new Keyring([{ id: 1, secret: keyB }], 1);

export function session(wall = WALL0, random16 = 1): SenderSession {
  return new SenderSession(newSessionId(wall, random16), wall, 0);
}

export const fingerprint = (byte: number): Uint8Array => new Uint8Array(16).fill(byte);

export function advert(over: Partial<ElectionMessage> = {}): ElectionMessage {
  return {
    kind: 'advert',
    groupId: 1,
    from: 1,
    priority: 200,
    state: 'master',
    intervalMs: 100,
    fingerprint: fingerprint(7),
    syncReady: true,
    ...over,
  } as ElectionMessage;
}

const statusArb = fc.record({
  groupId: fc.integer({ min: 1, max: 0xffff }),
  from: fc.integer({ min: 1, max: 0xffffffff }),
  priority: fc.integer({ min: 0, max: 254 }),
  state: fc.constantFrom<AdvertisedState>('backup', 'master', 'fault'),
  intervalMs: fc.integer({ min: 1, max: 0xffff }),
  fingerprint: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  syncReady: fc.boolean(),
});

/** Any message the encoder accepts. */
export const messageArb: fc.Arbitrary<ElectionMessage> = fc.oneof(
  fc
    .tuple(statusArb, fc.integer({ min: 0, max: 255 }))
    // The decoder leaves out a phase of 0: generate it absent, as a round trip returns it.
    .map(([s, phase]) => ({ kind: 'advert' as const, ...s, ...(phase === 0 ? {} : { phase }) })),
  fc
    .tuple(statusArb, fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 0xffffffff }))
    .filter(([s, to]) => to !== s.from)
    .map(([s, to, token]) => ({ kind: 'handover-request' as const, ...s, to, token })),
  fc
    .tuple(
      statusArb,
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.constantFrom(...HANDOVER_REJECT_REASONS),
    )
    .filter(([s, to]) => to !== s.from)
    .map(([s, to, token, reason]) => ({ kind: 'handover-reject' as const, ...s, to, token, reason })),
);
