/**
 * The election key rotation of core/auth/README.md (add the new key everywhere, sign with it
 * everywhere, drop the old one everywhere), one step at a time on this director, each step checked
 * against what its peers' adverts say (the key each signs with and the keys each accepts: failover/
 * wire/layout.ts) so that no step can leave a director signing with a key a peer does not accept:
 *
 *   add     accept a new key, still signing with the old one   (always safe)
 *   switch  sign with the new key       only once every peer accepts it
 *   finish  drop the old key            only once no peer signs with it
 *
 * Pure: the decisions and the edit of the config's YAML document. cli/commands/keys.ts does the I/O.
 */
import type { Document } from 'yaml';
import { isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { DsrError } from '../../core/errors.ts';

export interface KeySet {
  sendsWith: number;
  accepts: number[];
}

export interface PeerKeysView {
  id: string;
  /** From its last advert; null when none was heard. */
  keys: KeySet | null;
}

export type RotationStep = 'add' | 'switch' | 'finish';

/**
 * Of two keys, the one added last: `add` takes the id after the highest (nextKeyId), wrapping at
 * 255. null when neither id follows the other (keys listed by hand).
 */
export function newerKey(ours: KeySet): number | null {
  const [a, b] = ours.accepts;
  if (b === undefined) return null;
  if (b === (a % 255) + 1) return b;
  if (a === (b % 255) + 1) return a;
  return null;
}

/** Where the rotation stands on this director, and the step it takes next. */
export function rotationStage(ours: KeySet): { stage: string; next: RotationStep } {
  if (ours.accepts.length < 2)
    return { stage: `one key (id ${ours.sendsWith}): no rotation under way`, next: 'add' };
  const other = ours.accepts.find((id) => id !== ours.sendsWith);
  const signsWithNew = newerKey(ours) === ours.sendsWith;
  return {
    stage: `two keys: signing with id ${ours.sendsWith} (${signsWithNew ? 'the new one' : 'the old one'}), also accepting id ${other}`,
    next: signsWithNew ? 'finish' : 'switch',
  };
}

/** Why `step` is not safe now, or null. */
export function refusal(step: RotationStep, ours: KeySet, peers: readonly PeerKeysView[]): string | null {
  if (step === 'add') {
    return ours.accepts.length >= 2
      ? `this director holds two keys already (ids ${ours.accepts.join(', ')}): finish the rotation under way first`
      : null;
  }
  const other = ours.accepts.find((id) => id !== ours.sendsWith);
  if (other === undefined) return `this director holds one key (id ${ours.sendsWith}): add the new one first`;
  const newer = newerKey(ours);
  if (step === 'switch' && newer === ours.sendsWith)
    return `this director signs with the new key (id ${newer}) already: finish comes next`;
  if (step === 'finish' && newer === other)
    return `this director still signs with the old key (id ${ours.sendsWith}): switch comes first`;
  const unheard = peers.filter((p) => p.keys === null).map((p) => p.id);
  if (unheard.length > 0) return `no advert heard from ${unheard.join(', ')}: its keys are not known`;
  if (step === 'switch') {
    const lacking = peers.filter((p) => !p.keys!.accepts.includes(other)).map((p) => p.id);
    return lacking.length === 0
      ? null
      : `${lacking.join(', ')} does not accept key ${other} yet: run "dsrctl keys rotate add --key FILE" there first`;
  }
  const still = peers.filter((p) => p.keys!.sendsWith === other).map((p) => p.id);
  return still.length === 0
    ? null
    : `${still.join(', ')} still signs with key ${other}: run "dsrctl keys rotate switch" there first`;
}

/** The id a new key takes: the next after the highest in use (both directors compute the same). */
export function nextKeyId(ours: KeySet): number {
  return (Math.max(...ours.accepts) % 255) + 1;
}

function electionRing(doc: Document): YAMLMap {
  const keys = doc.get('keys');
  if (!isMap(keys)) throw new DsrError('E_KEY_ROTATION', 'the config has no keys section', {});
  if (keys.has('sync')) {
    throw new DsrError(
      'E_KEY_ROTATION',
      'keys.sync is set: rotate it and keys.election by hand, in three reloads each (core/auth/README.md)',
      {},
    );
  }
  const ring = keys.get('election');
  if (!isMap(ring) || !isSeq(ring.get('keys'))) {
    throw new DsrError('E_KEY_ROTATION', 'the config has no keys.election.keys list', {});
  }
  return ring;
}

function entries(ring: YAMLMap): { id: number; file: string }[] {
  return (ring.get('keys') as YAMLSeq).items.map((item) => {
    if (!isMap(item)) throw new DsrError('E_KEY_ROTATION', 'a keys.election entry is not a map', {});
    return { id: Number(item.get('id')), file: String(item.get('file')) };
  });
}

/** The file of the key we sign with, as the config names it (relative to the config, or absolute). */
export function sendKeyFile(doc: Document, ours: KeySet): string {
  const entry = entries(electionRing(doc)).find((k) => k.id === ours.sendsWith);
  if (entry === undefined) {
    throw new DsrError(
      'E_KEY_ROTATION',
      `the config has no key with id ${ours.sendsWith}: it changed since dsrd loaded it`,
      {},
    );
  }
  return entry.file;
}

/** add: key `id` in `file` accepted beside the one we sign with (send_id written, as two keys need). */
export function addKey(doc: Document, ours: KeySet, id: number, file: string): void {
  const ring = electionRing(doc);
  ring.set('send_id', ours.sendsWith);
  (ring.get('keys') as YAMLSeq).add(doc.createNode({ id, file }));
}

/** switch: sign with the other key. */
export function switchKey(doc: Document, ours: KeySet): number {
  const other = ours.accepts.find((id) => id !== ours.sendsWith)!;
  electionRing(doc).set('send_id', other);
  return other;
}

/** finish: drop the key we do not sign with; returns its file as the config names it. */
export function dropOtherKey(doc: Document, ours: KeySet): string {
  const ring = electionRing(doc);
  const keys = entries(ring);
  const at = keys.findIndex((k) => k.id !== ours.sendsWith);
  (ring.get('keys') as YAMLSeq).delete(at);
  return keys[at].file;
}
