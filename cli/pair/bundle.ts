/**
 * What `dsrctl pair init` hands to the other director and `dsrctl pair join` installs: one file
 * (JSON, mode 0600: it holds the election key) with the director's config and the files it names,
 * by paths relative to the config directory. Decoding refuses anything else, so a bundle cannot
 * write outside that directory.
 */
import { DsrError } from '../../core/errors.ts';

export const BUNDLE_FORMAT = 'dsr-director-pair/1';

export interface PairBundle {
  node: string;
  /** The dsrd.yaml text. */
  config: string;
  /** Files beside it (the key), by relative path. */
  files: Record<string, Buffer>;
}

export function encodeBundle(b: PairBundle): string {
  const files = Object.fromEntries(
    Object.entries(b.files).map(([p, bytes]) => [p, bytes.toString('base64')]),
  );
  return `${JSON.stringify({ format: BUNDLE_FORMAT, node: b.node, config: b.config, files }, null, 2)}\n`;
}

const SAFE_PATH = /^(?:[A-Za-z0-9_.-]+\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

function bad(why: string): never {
  throw new DsrError('E_USAGE', `not a dsr-director pair bundle: ${why}`, {});
}

export function decodeBundle(text: string): PairBundle {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  const d = doc as { format?: unknown; node?: unknown; config?: unknown; files?: unknown };
  if (typeof d !== 'object' || d === null) bad('not an object');
  if (d.format !== BUNDLE_FORMAT) bad(`format ${JSON.stringify(d.format)}, expected ${BUNDLE_FORMAT}`);
  if (typeof d.node !== 'string' || d.node === '') bad('no node name');
  if (typeof d.config !== 'string' || d.config === '') bad('no config');
  if (typeof d.files !== 'object' || d.files === null || Array.isArray(d.files)) bad('no files');
  const files: Record<string, Buffer> = {};
  for (const [path, b64] of Object.entries(d.files as Record<string, unknown>)) {
    if (!SAFE_PATH.test(path) || path.split('/').some((p) => p === '..' || p === '.')) {
      bad(`file path ${JSON.stringify(path)} leaves the config directory`);
    }
    if (path === 'dsrd.yaml') bad('a file named dsrd.yaml beside the config');
    if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) bad(`file ${path} is not base64`);
    files[path] = Buffer.from(b64, 'base64');
  }
  return { node: d.node, config: d.config, files };
}
