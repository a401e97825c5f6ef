/** Election alerts → alert events: peer and fingerprint events once per peer, not once per VIP group. */
import test from 'ava';
import type { AlertEventFields, AlertEventType } from '../../alerts/index.ts';
import { PeerAlertMemory, raiseAlert } from '../../daemon/election/report.ts';
import type { ElectionAlert } from '../../failover/index.ts';

function sink() {
  const raised: { type: AlertEventType; fields: unknown }[] = [];
  return {
    raised,
    emit<T extends AlertEventType>(type: T, fields: AlertEventFields<T>) {
      raised.push({ type, fields });
    },
  };
}

const names = new Map([
  [1, 'lb1'],
  [2, 'lb2'],
]);

test('two VIP groups seeing the same peer change raise one event per change', (t) => {
  const s = sink();
  const memory = new PeerAlertMemory();
  const both = (alert: ElectionAlert) => {
    for (const group of ['web', 'dns']) raiseAlert(s, group, 'lb1', alert, names, 'aa', memory);
  };
  both({ kind: 'peer-lost', peer: 2, silentMs: 350 });
  both({ kind: 'peer-recovered', peer: 2 });
  both({ kind: 'fingerprint-mismatch', peer: 2, ours: 'aa', theirs: 'bb' });
  both({ kind: 'fingerprint-mismatch', peer: 2, ours: 'aa', theirs: 'cc' });
  both({ kind: 'fingerprint-match', peer: 2 });
  both({ kind: 'peer-lost', peer: 2, silentMs: 400 });
  t.deepEqual(s.raised, [
    { type: 'peer_lost', fields: { peer: 'lb2', lastHeardSecondsAgo: 0.35 } },
    { type: 'peer_recovered', fields: { peer: 'lb2' } },
    { type: 'fingerprint_mismatch', fields: { peer: 'lb2', localFingerprint: 'aa', peerFingerprint: 'bb' } },
    { type: 'fingerprint_mismatch', fields: { peer: 'lb2', localFingerprint: 'aa', peerFingerprint: 'cc' } },
    { type: 'fingerprint_match', fields: { peer: 'lb2', fingerprint: 'aa' } },
    { type: 'peer_lost', fields: { peer: 'lb2', lastHeardSecondsAgo: 0.4 } },
  ]);
});

test('split brain is per group: each group raises its own', (t) => {
  const s = sink();
  const memory = new PeerAlertMemory();
  for (const group of ['web', 'dns']) {
    raiseAlert(s, group, 'lb1', { kind: 'split-brain-detected', peer: 2, winner: 1 }, names, 'aa', memory);
    raiseAlert(s, group, 'lb1', { kind: 'split-brain-resolved', peer: 2 }, names, 'aa', memory);
  }
  t.deepEqual(
    s.raised.map((r) => [r.type, (r.fields as { group: string }).group]),
    [
      ['split_brain_detected', 'web'],
      ['split_brain_resolved', 'web'],
      ['split_brain_detected', 'dns'],
      ['split_brain_resolved', 'dns'],
    ],
  );
});
