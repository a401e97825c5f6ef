/**
 * Reading a config: YAML → schema per section → cross-field rules → files it names → typed
 * Config. Every stage reports all of its issues with file:line:col; the config is built only when
 * there are none. Loading has no side effect besides reading files, so a reload can validate a
 * new file completely before anything changes.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Document, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import { DsrError } from '../core/errors.ts';
import { buildConfig } from './build.ts';
import { checkFiles, type FileAccess, FileChecker, nodeFileAccess } from './files.ts';
import { type ConfigIssue, formatConfigIssues, IssueCollector } from './issues.ts';
import { createSourceMap } from './positions.ts';
import { ConfigSchema, type RawConfig, SECTION_NAMES } from './schema.ts';
import { checkSemantics } from './semantic.ts';
import type { Sections } from './semantic-util.ts';
import type { Config } from './types.ts';
import { defaultMessage, reportZodIssues, suggestKey } from './zod-issues.ts';

export interface ParseOptions {
  /** Directory that relative file paths in the config are resolved against; default: the config file's. */
  baseDir?: string;
  /** File system for key files, secrets and programs; default: the real one. Tests pass a fake. */
  files?: FileAccess;
}

export type ConfigErrorCode = 'E_CONFIG_PARSE' | 'E_CONFIG_INVALID' | 'E_CONFIG_READ';

export type ConfigResult =
  | { ok: true; config: Config; issues: [] }
  | { ok: false; code: ConfigErrorCode; issues: ConfigIssue[] };

/** Largest config file accepted; a real one is a few kilobytes. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** YAML 1.2 reads `0660` as decimal 660, which is never what an operator who wrote it meant. */
function reportLeadingZeros(doc: Document, out: IssueCollector): void {
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'number' || node.type !== 'PLAIN') return;
      const src = node.source ?? '';
      if (!/^[-+]?0\d+$/.test(src)) return;
      const chain = [...ancestors, node];
      const fieldPath: (string | number)[] = [];
      for (let i = 0; i < chain.length - 1; i++) {
        const step = chain[i];
        const next = chain[i + 1];
        if (isPair(step) && isScalar(step.key) && next === step.value) fieldPath.push(String(step.key.value));
        else if (isSeq(step)) fieldPath.push(step.items.indexOf(next as never));
      }
      out.add(
        'syntax',
        fieldPath,
        `number ${src} has a leading zero, which YAML 1.2 reads as decimal ${node.value}: write ${node.value}, or quote it ("${src}") if it is an octal mode`,
      );
    },
  });
}

function parseSections(data: unknown, out: IssueCollector): Sections | null {
  if (data === null || data === undefined) {
    out.add('schema', [], 'the file is empty: expected a map with at least node, interfaces and vip_groups');
    return null;
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    out.add(
      'schema',
      [],
      `expected a map of sections (node, peers, interfaces, ...), found ${Array.isArray(data) ? 'a list' : typeof data}`,
    );
    return null;
  }
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(SECTION_NAMES as string[]).includes(key)) {
      const hint = suggestKey(key, SECTION_NAMES);
      out.add('schema', [key], `unknown section "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`, 'key');
    }
  }
  const sections: Record<string, unknown> = {};
  for (const name of SECTION_NAMES) {
    const schema = ConfigSchema.shape[name];
    const r = schema.safeParse(record[name], { error: defaultMessage });
    if (r.success) sections[name] = r.data;
    else reportZodIssues(out, r.error.issues, [name], record[name], schema);
  }
  return sections as Sections;
}

/** Parses and validates config text. Never throws for bad input: the result lists the issues. */
export function parseConfigText(text: string, fileName: string, opts: ParseOptions = {}): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    keepSourceTokens: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const out = new IssueCollector(fileName, createSourceMap(doc, lines));
  const place = (offset: number) => lines.linePos(offset);
  for (const e of [...doc.errors, ...doc.warnings]) {
    const { line, col } = place(e.pos[0]);
    out.issues.push({ file: fileName, line, col, path: '', message: `YAML: ${e.message}`, kind: 'syntax' });
  }
  if (doc.errors.length > 0) return { ok: false, code: 'E_CONFIG_PARSE', issues: out.issues };

  reportLeadingZeros(doc, out);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    out.add('syntax', [], `YAML: ${(e as Error).message}`);
    return { ok: false, code: 'E_CONFIG_PARSE', issues: out.issues };
  }
  const sections = parseSections(data, out);
  if (sections === null) return { ok: false, code: 'E_CONFIG_INVALID', issues: out.issues };
  checkSemantics(out, sections);

  const baseDir = opts.baseDir ?? dirname(resolve(fileName));
  const fc = new FileChecker(out, opts.files ?? nodeFileAccess, baseDir);
  checkFiles(fc, sections);

  if (out.count > 0) {
    const onlyFiles = out.issues.every((i) => i.kind === 'file');
    return { ok: false, code: onlyFiles ? 'E_CONFIG_READ' : 'E_CONFIG_INVALID', issues: out.issues };
  }
  const config = buildConfig(sections as RawConfig, { files: fc.files, resolve: (p) => fc.resolve(p) });
  return { ok: true, config, issues: [] };
}

export function configError(code: ConfigErrorCode, file: string, issues: ConfigIssue[]): DsrError {
  const lines = formatConfigIssues(issues);
  const head = `${file}: ${issues.length} error${issues.length === 1 ? '' : 's'} in the config`;
  return new DsrError(code, [head, ...lines].join('\n'), { file, errors: issues });
}

/** Reads and validates a config file; throws a DsrError whose context.errors lists every issue. */
export async function loadConfig(path: string, opts: ParseOptions = {}): Promise<Config> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const issue: ConfigIssue = {
      file: path,
      line: 1,
      col: 1,
      path: '',
      message: `cannot read the config file: ${err.code ?? ''} ${err.message}`.replace('  ', ' '),
      kind: 'file',
    };
    throw configError('E_CONFIG_READ', path, [issue]);
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    const issue: ConfigIssue = {
      file: path,
      line: 1,
      col: 1,
      path: '',
      message: `the file has ${bytes.length} bytes, more than the ${MAX_CONFIG_BYTES} a config may have`,
      kind: 'file',
    };
    throw configError('E_CONFIG_READ', path, [issue]);
  }
  const result = parseConfigText(bytes.toString('utf8'), path, opts);
  if (!result.ok) throw configError(result.code, path, result.issues);
  return result.config;
}
