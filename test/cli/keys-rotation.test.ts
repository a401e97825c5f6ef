/** The key rotation's steps as decisions and YAML edits (cli/keys/rotation.ts), without a daemon. */
import test from 'ava';
import { parseDocument } from 'yaml';
import {
  addKey,
  dropOtherKey,
  newerKey,
  nextKeyId,
  refusal,
  rotationStage,
  sendKeyFile,
  switchKey,
} from '../../cli/keys/rotation.ts';

const one = { sendsWith: 1, accepts: [1] };
const added = { sendsWith: 1, accepts: [1, 2] };
const switched = { sendsWith: 2, accepts: [1, 2] };
const peer = (keys: { sendsWith: number; accepts: number[] } | null) => [{ id: 'lb2', keys }];

test('each step is refused until the peers are ready for it', (t) => {
  t.is(refusal('add', one, peer(one)), null, 'adding a key to accept is always safe');
  t.regex(refusal('add', added, peer(added)) ?? '', /two keys already/);
  t.regex(refusal('switch', one, peer(one)) ?? '', /holds one key/);
  t.regex(refusal('switch', added, peer(one)) ?? '', /lb2 does not accept key 2/);
  t.regex(refusal('switch', added, peer(null)) ?? '', /no advert heard from lb2/);
  t.is(refusal('switch', added, peer(added)), null);
  t.regex(refusal('switch', switched, peer(switched)) ?? '', /signs with the new key \(id 2\) already/);
  t.regex(refusal('finish', added, peer(added)) ?? '', /still signs with the old key \(id 1\)/);
  t.regex(refusal('finish', switched, peer(added)) ?? '', /lb2 still signs with key 1/);
  t.is(refusal('finish', switched, peer(switched)), null);
  t.is(refusal('finish', switched, peer({ sendsWith: 2, accepts: [2] })), null, 'a peer that finished first');
});

test('the new key is the id after the highest, wrapping at 255; the stage says what comes next', (t) => {
  t.is(nextKeyId(one), 2);
  t.is(nextKeyId({ sendsWith: 255, accepts: [255] }), 1);
  t.is(newerKey({ sendsWith: 255, accepts: [1, 255] }), 1);
  t.is(newerKey(added), 2);
  t.is(newerKey({ sendsWith: 3, accepts: [3, 7] }), null, 'ids listed by hand: not told');
  t.is(rotationStage(one).next, 'add');
  t.is(rotationStage(added).next, 'switch');
  t.is(rotationStage(switched).next, 'finish');
});

const CONFIG = `# lb1
keys:
  election:
    keys:
      - id: 1
        file: keys/election-1.key   # 32 random bytes
sync:
  port: 9778
`;

test('the config is edited in place, its comments kept', (t) => {
  const doc = parseDocument(CONFIG);
  t.is(sendKeyFile(doc, one), 'keys/election-1.key');
  addKey(doc, one, 2, 'keys/election-2.key');
  const afterAdd = doc.toString();
  t.regex(afterAdd, /# 32 random bytes/);
  t.regex(afterAdd, /send_id: 1/);
  t.deepEqual(doc.toJS().keys.election.keys, [
    { id: 1, file: 'keys/election-1.key' },
    { id: 2, file: 'keys/election-2.key' },
  ]);
  t.is(switchKey(doc, added), 2);
  t.is(doc.toJS().keys.election.send_id, 2);
  t.is(dropOtherKey(doc, switched), 'keys/election-1.key');
  t.deepEqual(doc.toJS().keys.election, { send_id: 2, keys: [{ id: 2, file: 'keys/election-2.key' }] });
  t.regex(doc.toString(), /^# lb1/);
});

test('a config with its own sync keys is not rotated by the command', (t) => {
  const doc = parseDocument(
    `${CONFIG.replace('sync:\n  port: 9778\n', '')}  sync:\n    keys:\n      - id: 1\n        file: s.key\n`,
  );
  const err = t.throws(() => addKey(doc, one, 2, 'keys/election-2.key'));
  t.regex(err.message, /keys.sync is set/);
});
