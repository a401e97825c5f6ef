/**
 * The Raft state on disk (node.state_dir/raft.json): term, vote, commit index, snapshot and the
 * entries after it, replaced atomically and fsynced (core/auth/state-file.ts) before the messages
 * of the same step are sent (the RaftOutput contract, ./types.ts). The log stays small (compaction
 * keeps operator commands to a snapshot and a tail), so each change rewrites the file.
 *
 * A file that does not read back is an error, never an empty start: a voter that forgot its vote
 * could vote twice in one term.
 */
import { readStateFile, writeStateFile } from '../../core/auth/state-file.ts';
import { DsrError } from '../../core/errors.ts';
import { EMPTY_STATE, type Entry, type PersistedState, type RaftOutput, type Snapshot } from './types.ts';

export const RAFT_STATE_FILE = 'raft.json';
const FORMAT = 1;

interface EntryJson {
  index: number;
  term: number;
  data: string;
}

const toJson = (entry: Entry | Snapshot): EntryJson => ({
  index: entry.index,
  term: entry.term,
  data: Buffer.from(entry.data).toString('base64'),
});

function fromJson(value: unknown, path: string): Entry {
  const entry = value as Partial<EntryJson> | null;
  const ok =
    typeof entry === 'object' &&
    entry !== null &&
    Number.isSafeInteger(entry.index) &&
    Number.isSafeInteger(entry.term) &&
    typeof entry.data === 'string';
  if (!ok) throw new DsrError('E_STATE_FILE', `${path}: an entry is malformed`, { path, entry: value });
  return {
    index: entry.index as number,
    term: entry.term as number,
    data: new Uint8Array(Buffer.from(entry.data as string, 'base64')),
  };
}

export class RaftStorage {
  readonly #dir: string;
  #state: PersistedState;

  private constructor(dir: string, state: PersistedState) {
    this.#dir = dir;
    this.#state = state;
  }

  /** Reads the state an earlier run left (the empty state on a first start). */
  static open(dir: string): RaftStorage {
    const text = readStateFile(dir, RAFT_STATE_FILE);
    return new RaftStorage(
      dir,
      text === null ? EMPTY_STATE : RaftStorage.#parse(text, `${dir}/${RAFT_STATE_FILE}`),
    );
  }

  static #parse(text: string, path: string): PersistedState {
    let json: {
      format?: unknown;
      hardState?: Record<string, unknown>;
      snapshot?: unknown;
      entries?: unknown;
    };
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new DsrError(
        'E_STATE_FILE',
        `${path} is not JSON: restore it from a backup or rejoin the voter`,
        { path },
        e,
      );
    }
    const hard = json.hardState ?? {};
    const numbers = [hard.term, hard.vote, hard.commit];
    if (
      json.format !== FORMAT ||
      !numbers.every((n) => Number.isSafeInteger(n)) ||
      !Array.isArray(json.entries)
    ) {
      throw new DsrError('E_STATE_FILE', `${path} is not a raft state of format ${FORMAT}`, {
        path,
        format: json.format,
      });
    }
    return {
      hardState: { term: hard.term as number, vote: hard.vote as number, commit: hard.commit as number },
      snapshot: json.snapshot === null || json.snapshot === undefined ? null : fromJson(json.snapshot, path),
      entries: json.entries.map((entry) => fromJson(entry, path)),
    };
  }

  get state(): PersistedState {
    return this.#state;
  }

  /** Makes one step's persistent part durable; nothing written when it has none. */
  save(out: RaftOutput): void {
    if (
      out.hardState === null &&
      out.snapshot === null &&
      out.truncateFrom === null &&
      out.entries.length === 0
    )
      return;
    const snapshot = out.snapshot ?? this.#state.snapshot;
    const from = out.truncateFrom ?? Number.POSITIVE_INFINITY;
    const kept = this.#state.entries.filter(
      (entry) => entry.index < from && entry.index > (snapshot?.index ?? 0),
    );
    const state: PersistedState = {
      hardState: out.hardState ?? this.#state.hardState,
      snapshot,
      entries: [...kept, ...out.entries],
    };
    const json = {
      format: FORMAT,
      hardState: state.hardState,
      snapshot: state.snapshot === null ? null : toJson(state.snapshot),
      entries: state.entries.map(toJson),
    };
    writeStateFile(this.#dir, RAFT_STATE_FILE, `${JSON.stringify(json)}\n`);
    this.#state = state;
  }
}
