/**
 * The last session id of each stream this director sends (election, sync), kept on disk so the
 * next one is strictly greater whatever the wall clock says (issue 21, item 3). Session ids come
 * from the wall clock (session.ts); a director that restarts with its clock behind would otherwise
 * pick a smaller id, and its peers, which hold the old one, would drop every message it sends as
 * a replay: the peer would take over, and two directors would own the VIPs.
 *
 * The new id is written before it is returned, so no message that depends on it is sent before
 * it is on disk (state-file.ts: an atomic replace).
 */
import { join } from 'node:path';
import { DsrError } from '../errors.ts';
import { newSessionId } from './session.ts';
import { readStateFile, writeStateFile } from './state-file.ts';

export type SessionStream = 'election' | 'sync' | 'raft';

const FILE = 'sessions.json';

function readIds(dir: string): Partial<Record<SessionStream, bigint>> {
  const text = readStateFile(dir, FILE);
  if (text === null) return {};
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    const out: Partial<Record<SessionStream, bigint>> = {};
    for (const stream of ['election', 'sync', 'raft'] as const) {
      const v = raw[stream];
      if (v === undefined) continue;
      if (typeof v !== 'string' || !/^[0-9a-f]{1,16}$/.test(v)) throw new Error(`${stream} is not a hex u64`);
      out[stream] = BigInt(`0x${v}`);
    }
    return out;
  } catch (e) {
    const path = join(dir, FILE);
    throw new DsrError(
      'E_STATE_FILE',
      `${path} is not a session file (${(e as Error).message}); remove it to start afresh (peers then take this director's next session as new only if its clock is ahead of the last)`,
      { path },
    );
  }
}

/**
 * A new session id for `stream`, greater than the last one recorded in `dir`, recorded there
 * before it is returned.
 * @param wallMs   Date.now()
 * @param random16 0..65535 from a CSPRNG
 */
export function nextSessionId(dir: string, stream: SessionStream, wallMs: number, random16: number): bigint {
  const ids = readIds(dir);
  const id = newSessionId(wallMs, random16, ids[stream]);
  const next = { ...ids, [stream]: id };
  const json = Object.fromEntries(Object.entries(next).map(([k, v]) => [k, (v as bigint).toString(16)]));
  writeStateFile(dir, FILE, `${JSON.stringify(json)}\n`);
  return id;
}
