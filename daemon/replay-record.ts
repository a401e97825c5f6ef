/**
 * What a replay guard (the election's, the sync's) accepted from each peer, recorded in
 * node.state_dir so the next run takes it back (issue 21, item 3). Without it a restarted director
 * holds nothing for its peers and accepts any session they ever used: a stream recorded earlier (a
 * dead master's adverts, a peer's sync) played back after our restart would pass as new.
 *
 * The guards live on their threads; their state arrives here with the threads' snapshots and is
 * written once a second when it changed, and at stop, on the main thread (a disk write never holds
 * up the election or the sync). What the last second accepted is not yet on disk: a stream
 * recorded in that second and played back after a crash could pass, once.
 */
import type { ReplaySeed } from '../core/auth/replay-guard.ts';
import { readStateFile, writeStateFile } from '../core/auth/state-file.ts';
import { errorFields, type Logger } from '../core/log.ts';

/** The file of each stream's replay state in node.state_dir. */
export type ReplayFile = 'replay-election.json' | 'replay-sync.json' | 'replay-raft.json';

const EVERY_MS = 1000;

/** The seeds the last run recorded; none (with a warning) when the file is missing or damaged. */
export function loadReplaySeeds(dir: string, file: ReplayFile, log?: Logger): ReplaySeed[] {
  try {
    const text = readStateFile(dir, file);
    if (text === null) return [];
    const raw = JSON.parse(text) as { peers?: unknown };
    if (!Array.isArray(raw.peers)) throw new Error('no peers list');
    return raw.peers.map((p: { peer?: unknown; session?: unknown; highestSeq?: unknown }) => {
      if (
        !Number.isInteger(p.peer) ||
        typeof p.session !== 'string' ||
        !/^[0-9a-f]{1,16}$/.test(p.session) ||
        typeof p.highestSeq !== 'string' ||
        !/^\d{1,20}$/.test(p.highestSeq)
      ) {
        throw new Error('an entry is not {peer, session, highestSeq}');
      }
      return { peer: p.peer as number, session: BigInt(`0x${p.session}`), highestSeq: BigInt(p.highestSeq) };
    });
  } catch (err) {
    log?.warn(
      { file, ...errorFields(err) },
      'the replay state of the last run cannot be read: peers are taken as first heard',
    );
    return [];
  }
}

function serialize(seeds: readonly ReplaySeed[]): string {
  const peers = [...seeds]
    .sort((a, b) => a.peer - b.peer)
    .map((s) => ({ peer: s.peer, session: s.session.toString(16), highestSeq: s.highestSeq.toString() }));
  return `${JSON.stringify({ peers })}\n`;
}

export class ReplayRecorder {
  readonly #dir: string;
  readonly #file: ReplayFile;
  readonly #read: () => readonly ReplaySeed[];
  readonly #log: Logger | undefined;
  #written = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(dir: string, file: ReplayFile, read: () => readonly ReplaySeed[], log?: Logger) {
    this.#dir = dir;
    this.#file = file;
    this.#read = read;
    this.#log = log;
  }

  start(): void {
    this.#timer = setInterval(() => this.flush(), EVERY_MS);
    this.#timer.unref();
  }

  /** Writes the state if it changed since the last write. */
  flush(): void {
    const text = serialize(this.#read());
    if (text === this.#written) return;
    try {
      writeStateFile(this.#dir, this.#file, text);
      this.#written = text;
    } catch (err) {
      this.#log?.error(errorFields(err), 'cannot record the replay state');
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }
}
