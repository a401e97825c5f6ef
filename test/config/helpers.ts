/** Shared fixtures of the config tests: an in-memory file system and small valid configs. */
import {
  type ConfigResult,
  type FileAccess,
  formatConfigIssues,
  parseConfigText,
} from '../../config/index.ts';
import type { Config } from '../../config/types.ts';

export const KEY_BYTES = Buffer.alloc(32, 0x5a);

/** In-memory files by absolute path; anything else does not exist. Programs under /usr/bin run. */
export function fakeFiles(files: Record<string, { bytes: Buffer | string; mode?: number }> = {}): FileAccess {
  return {
    read(path) {
      const f = files[path];
      if (f === undefined) return { ok: false, reason: `ENOENT: no such file or directory, open '${path}'` };
      return { ok: true, bytes: Buffer.from(f.bytes), mode: f.mode ?? 0o600 };
    },
    notExecutable(path) {
      return path.startsWith('/usr/bin/') || files[path] !== undefined
        ? null
        : 'ENOENT: no such file or directory';
    },
  };
}

export const DEFAULT_FILES = fakeFiles({
  '/etc/dsr/k1.key': { bytes: KEY_BYTES },
  '/etc/dsr/k2.key': { bytes: Buffer.alloc(40, 0x33) },
  '/etc/dsr/webhook.secret': { bytes: `whsec_${Buffer.alloc(24, 7).toString('base64')}\n` },
});

export function parse(text: string, file = 'dsrd.yaml', files: FileAccess = DEFAULT_FILES): ConfigResult {
  return parseConfigText(text, file, { files, baseDir: '/etc/dsr' });
}

/** Parses text that must be valid; fails loudly with the issues otherwise. */
export function parseOk(text: string, files: FileAccess = DEFAULT_FILES): Config {
  const r = parse(text, 'dsrd.yaml', files);
  if (!r.ok) throw new Error(`expected a valid config:\n${formatConfigIssues(r.issues).join('\n')}`);
  return r.config;
}

/** The formatted issue lines of text that must be invalid. */
export function issueLines(text: string, files: FileAccess = DEFAULT_FILES): string[] {
  const r = parse(text, 'dsrd.yaml', files);
  if (r.ok) return [];
  return formatConfigIssues(r.issues);
}

/** Joins lines into a YAML document (so a test can show line numbers by position in the list). */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The smallest valid config: one node, one interface, one VIP group, no peers. */
export const MINIMAL = yaml(
  'node:',
  '  id: lb1',
  'interfaces:',
  '  - name: eth0',
  'vip_groups:',
  '  - name: web',
  '    id: 1',
  '    vips: [198.18.100.10]',
);

/** A pair member with a service; used by fingerprint and diff tests. */
export const PAIR = yaml(
  'node:',
  '  id: lb1',
  '  priority: 150',
  'peers:',
  '  - id: lb2',
  '    address: 198.18.0.12',
  'interfaces:',
  '  - name: eth0',
  'vip_groups:',
  '  - name: web',
  '    id: 1',
  '    vips: [198.18.100.10, "2001:2::10"]',
  'health_checks:',
  '  - name: tcp80',
  '    kind: tcp',
  'services:',
  '  - name: http',
  '    vip: 198.18.100.10',
  '    protocol: tcp',
  '    port: 80',
  '    health_check: tcp80',
  '    persistence: {timeout_s: 600, netmask_v4: 24}',
  '    real_servers:',
  '      - address: 198.18.200.1',
  '      - address: 198.18.200.2',
  '        weight: 2',
  '      - address: 198.18.200.3',
  '  - name: dns6',
  '    vip: "2001:2::10"',
  '    protocol: udp',
  '    port: 53',
  '    health_check: {kind: dns, query: www.example.test}',
  '    real_servers:',
  '      - address: "2001:2::200:1"',
  '      - address: "2001:2::200:2"',
  'keys:',
  '  election:',
  '    keys: [{id: 1, file: k1.key}]',
);
