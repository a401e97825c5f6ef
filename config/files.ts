/**
 * Files the config names: HMAC key files, webhook secrets and URLs, CA bundles, programs run by
 * checks. They are read (or checked) at load time, so a missing key stops startup or a reload
 * with a positioned error instead of failing at the first election message.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { IssueCollector } from './issues.ts';
import type { FieldPath } from './positions.ts';
import type { RawHealthCheckRef, RawKeyRing } from './schema.ts';
import type { Sections } from './semantic-util.ts';

export type FileResult = { ok: true; bytes: Buffer; mode: number } | { ok: false; reason: string };

/** The file system as the loader sees it; tests pass an in-memory one. */
export interface FileAccess {
  read(path: string): FileResult;
  /** null when the path is a regular file this process may execute, else why not. */
  notExecutable(path: string): string | null;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message.replace(/^[A-Z]+: /, '')}` : String(e);
}

export const nodeFileAccess: FileAccess = {
  read(path) {
    try {
      const st = statSync(path);
      if (!st.isFile()) return { ok: false, reason: 'not a regular file' };
      return { ok: true, bytes: readFileSync(path), mode: st.mode & 0o7777 };
    } catch (e) {
      return { ok: false, reason: reason(e) };
    }
  },
  notExecutable(path) {
    try {
      if (!statSync(path).isFile()) return 'not a regular file';
      accessSync(path, constants.X_OK);
      return null;
    } catch (e) {
      return reason(e);
    }
  },
};

/** An HMAC-SHA256 key shorter than the hash output weakens it (RFC 2104 §3). */
export const MIN_KEY_BYTES = 32;

/**
 * Secret files hold the value on its own. A text file (printable ASCII, as `echo`, `openssl rand
 * -hex` or an editor writes it) has the one trailing newline they add dropped; a binary key (`head
 * -c 32 /dev/urandom`) is taken whole, since its last random byte may well be 0x0a.
 */
export function trimFinalNewline(bytes: Buffer): Buffer {
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a && isText(bytes.subarray(0, -1))) {
    const end = bytes.length > 1 && bytes[bytes.length - 2] === 0x0d ? 2 : 1;
    return bytes.subarray(0, bytes.length - end);
  }
  return bytes;
}

/** Printable ASCII and tabs only (a carriage return may end it: CRLF). */
function isText(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x0d && i === bytes.length - 1) continue;
    if ((b < 0x20 || b > 0x7e) && b !== 0x09) return false;
  }
  return true;
}

/** Contents of the files read, by absolute path, with a text file's final newline dropped. */
export type LoadedFiles = Map<string, Buffer>;

export class FileChecker {
  readonly files: LoadedFiles = new Map();
  readonly #out: IssueCollector;
  readonly #fs: FileAccess;
  readonly #baseDir: string;

  constructor(out: IssueCollector, fs: FileAccess, baseDir: string) {
    this.#out = out;
    this.#fs = fs;
    this.#baseDir = baseDir;
  }

  resolve(path: string): string {
    return isAbsolute(path) ? path : resolve(this.#baseDir, path);
  }

  /** Reads a secret; world-readable secrets are refused like ssh refuses a world-readable key. */
  readSecret(path: string, at: FieldPath, what: string, minBytes = 1): Buffer | null {
    const abs = this.resolve(path);
    const r = this.#fs.read(abs);
    if (!r.ok) {
      this.#out.add('file', at, `cannot read ${what} ${abs}: ${r.reason}`);
      return null;
    }
    if ((r.mode & 0o004) !== 0) {
      const mode = (r.mode & 0o777).toString(8).padStart(4, '0');
      this.#out.add(
        'file',
        at,
        `${what} ${abs} is readable by every user (mode ${mode}); chmod 0600 or 0640`,
      );
      return null;
    }
    const bytes = trimFinalNewline(r.bytes);
    if (bytes.length < minBytes) {
      this.#out.add('file', at, `${what} ${abs} holds ${bytes.length} bytes, expected at least ${minBytes}`);
      return null;
    }
    this.files.set(abs, bytes);
    return bytes;
  }

  problem(at: FieldPath, message: string): void {
    this.#out.add('file', at, message);
  }

  readPlain(path: string, at: FieldPath, what: string): void {
    const abs = this.resolve(path);
    const r = this.#fs.read(abs);
    if (!r.ok) this.#out.add('file', at, `cannot read ${what} ${abs}: ${r.reason}`);
  }

  executable(path: string, at: FieldPath): void {
    const why = this.#fs.notExecutable(path);
    if (why !== null) this.#out.add('file', at, `cannot run ${path}: ${why}`);
  }
}

function checkRingFiles(fc: FileChecker, ring: RawKeyRing, path: FieldPath): void {
  ring.keys.forEach((k, i) => {
    fc.readSecret(k.file, [...path, 'keys', i, 'file'], 'key file', MIN_KEY_BYTES);
  });
}

function checkRefFiles(fc: FileChecker, ref: RawHealthCheckRef | undefined, path: FieldPath): void {
  if (ref === undefined || typeof ref === 'string') return;
  if (ref.kind === 'exec') fc.executable(ref.command[0], [...path, 'command', 0]);
  if (ref.kind === 'https' && ref.ca_file !== undefined)
    fc.readPlain(ref.ca_file, [...path, 'ca_file'], 'CA file');
}

export function checkFiles(fc: FileChecker, s: Sections): void {
  if (s.keys) {
    checkRingFiles(fc, s.keys.election, ['keys', 'election']);
    if (s.keys.sync) checkRingFiles(fc, s.keys.sync, ['keys', 'sync']);
  }
  s.alerts?.targets.forEach((t, i) => {
    const at = (field: string): FieldPath => ['alerts', 'targets', i, field];
    if (t.secret_file !== undefined) fc.readSecret(t.secret_file, at('secret_file'), 'webhook secret file');
    if (t.url_file !== undefined) {
      const bytes = fc.readSecret(t.url_file, at('url_file'), 'webhook URL file');
      if (bytes !== null && !/^https?:\/\/\S+$/.test(bytes.toString('utf8'))) {
        fc.files.delete(fc.resolve(t.url_file));
        // The URL is a credential: say what is wrong without echoing it.
        fc.problem(
          at('url_file'),
          `webhook URL file ${fc.resolve(t.url_file)} does not hold one http(s) URL`,
        );
      }
    }
  });
  s.health_checks?.forEach((c, i) => {
    checkRefFiles(fc, c, ['health_checks', i]);
  });
  s.services?.forEach((svc, i) => {
    checkRefFiles(fc, svc.health_check, ['services', i, 'health_check']);
    svc.real_servers.forEach((rs, j) => {
      checkRefFiles(fc, rs.health_check, ['services', i, 'real_servers', j, 'health_check']);
    });
  });
  s.vip_groups?.forEach((g, i) => {
    g.track.scripts.forEach((script, j) => {
      fc.executable(script.command[0], ['vip_groups', i, 'track', 'scripts', j, 'command', 0]);
    });
  });
}
