/**
 * `dsrctl pair init` and `dsrctl pair join` (issue 25): a director pair's configs and shared key
 * written at once, and installed on each director. Runs locally, not through the daemon.
 *
 *   dsrctl pair init --director lb1=198.18.0.11 --director lb2=198.18.0.12 --vip 198.18.100.10 \
 *     --service web:tcp:80 --real 198.18.200.1 --real 198.18.200.2 --out ./pair
 *     (or --answers FILE, the same in YAML)
 *   -> pair/lb1/dsrd.yaml, pair/lb2/dsrd.yaml, each with keys/election-1.key (0600),
 *      and pair/lb1.bundle, pair/lb2.bundle (0600) to copy to each director
 *   dsrctl pair join lb2.bundle [--etc /etc/dsr-director]
 *     -> /etc/dsr-director/dsrd.yaml and keys/, then checks the config as dsrd --check does
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import { parse } from 'yaml';
import { checkConfigFile } from '../../config/index.ts';
import { EXIT_FAILED, usage } from '../../core/exit.ts';
import { decodeBundle, encodeBundle } from '../pair/bundle.ts';
import { KEY_FILE, type PairAnswers, pairConfigs } from '../pair/plan.ts';
import { writePrivateFile } from '../private-file.ts';
import type { CommandModule } from '../program.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface InitOptions {
  answers?: string;
  director: string[];
  interface: string;
  group: string;
  groupId: string;
  vip: string[];
  service: string[];
  real: string[];
  out: string;
  force?: boolean;
}

function parseService(spec: string): PairAnswers['services'][number] {
  const m = /^([^:@]+):(tcp|udp):(\d+)(?:@(.+))?$/.exec(spec);
  if (m === null) throw usage(`--service ${spec}: expected NAME:tcp|udp:PORT[@VIP]`);
  return { name: m[1], protocol: m[2] as 'tcp' | 'udp', port: Number(m[3]), ...(m[4] ? { vip: m[4] } : {}) };
}

function answersFromFlags(o: InitOptions): PairAnswers {
  return {
    directors: o.director.map((d) => {
      const [name, address, ...rest] = d.split('=');
      if (address === undefined || rest.length > 0) throw usage(`--director ${d}: expected NAME=ADDRESS`);
      return { name, address };
    }),
    interface: o.interface,
    group: { name: o.group, id: Number(o.groupId) },
    vips: o.vip,
    services: o.service.map(parseService),
    realServers: o.real,
  };
}

/** The answers file: the flags' names in YAML (directors as a list of {name, address}). */
function answersFromFile(path: string): PairAnswers {
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw usage(`--answers ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const list = (k: string): unknown[] => (Array.isArray(doc[k]) ? (doc[k] as unknown[]) : []);
  return {
    directors: list('directors').map((d) => ({
      name: String((d as { name?: unknown }).name ?? ''),
      address: String((d as { address?: unknown }).address ?? ''),
    })),
    interface: String(doc.interface ?? 'eth0'),
    group: { name: String(doc.group ?? 'web'), id: Number(doc.group_id ?? 1) },
    vips: list('vips').map(String),
    services: list('services').map((s) => parseService(String(s))),
    realServers: list('real_servers').map(String),
  };
}

export const pairCommand: CommandModule = (program, ctx) => {
  const pair = program
    .command('pair')
    .description('set up a director pair: both configs and the shared key (runs locally)');

  pair
    .command('init')
    .description("write both directors' configs, the election key and a bundle for each director")
    .option('--answers <file>', 'the answers in YAML instead of flags')
    .addOption(
      new Option('--director <name=address>', 'a director, the preferred master first (twice)')
        .default([])
        .argParser(collect),
    )
    .option('--interface <name>', 'the interface that carries the VIPs', 'eth0')
    .option('--group <name>', 'the VIP group name', 'web')
    .option('--group-id <n>', 'the VIP group id, 1..255, unique on the segment', '1')
    .addOption(new Option('--vip <address>', 'a VIP (repeatable)').default([]).argParser(collect))
    .addOption(
      new Option('--service <name:proto:port[@vip]>', 'a service (repeatable)')
        .default([])
        .argParser(collect),
    )
    .addOption(
      new Option('--real <address>', 'a real server of every service (repeatable)')
        .default([])
        .argParser(collect),
    )
    .option('--out <dir>', 'where to write', 'dsr-pair')
    .option('--force', 'write into a directory that is not empty')
    .action(async (o: InitOptions) => {
      const answers = o.answers === undefined ? answersFromFlags(o) : answersFromFile(o.answers);
      const configs = pairConfigs(answers);
      const out = resolve(o.out);
      if (existsSync(out) && readdirSync(out).length > 0 && o.force !== true) {
        throw usage(`${out} is not empty; choose another --out or add --force`);
      }
      const key = randomBytes(32);
      const fingerprints = new Set<string>();
      for (const [name, text] of configs) {
        const dir = join(out, name);
        writePrivateFile(join(dir, KEY_FILE), key);
        writeFileSync(join(dir, 'dsrd.yaml'), text, { mode: 0o640 });
        writePrivateFile(
          join(out, `${name}.bundle`),
          encodeBundle({ node: name, config: text, files: { [KEY_FILE]: key } }),
        );
        const r = await checkConfigFile(join(dir, 'dsrd.yaml'));
        if (!r.ok) throw usage(`the config written for ${name} does not check:\n${r.lines.join('\n')}`);
        fingerprints.add(r.fingerprint ?? '');
        ctx.io.out(`${r.summary}\n`);
      }
      if (fingerprints.size !== 1)
        throw usage('the two configs have different fingerprints (a bug: report it)');
      const [first, second] = [...configs.keys()];
      ctx.io.out(
        `wrote ${out}: ${first}/ and ${second}/ (dsrd.yaml, ${KEY_FILE}), ${first}.bundle and ${second}.bundle\n` +
          `fingerprint ${[...fingerprints][0]} on both\n` +
          `next: copy ${second}.bundle to ${second} over a secure channel; on each director run\n` +
          `  dsrctl pair join NAME.bundle && systemctl enable --now dsrd\n`,
      );
    });

  pair
    .command('join')
    .description("install a director's part of a pair from its bundle, then check it as dsrd --check does")
    .argument('<bundle>', 'the bundle pair init wrote for this director')
    .option('--etc <dir>', 'the config directory', '/etc/dsr-director')
    .option('--force', 'replace an existing dsrd.yaml')
    .action(async (bundlePath: string, o: { etc: string; force?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(bundlePath, 'utf8');
      } catch (e) {
        throw usage(`cannot read ${bundlePath}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const bundle = decodeBundle(text);
      const etc = resolve(o.etc);
      const configPath = join(etc, 'dsrd.yaml');
      if (existsSync(configPath) && o.force !== true) {
        throw usage(`${configPath} exists; add --force to replace it`);
      }
      for (const [path, bytes] of Object.entries(bundle.files)) writePrivateFile(join(etc, path), bytes);
      mkdirSync(etc, { recursive: true });
      writeFileSync(configPath, bundle.config, { mode: 0o640 });
      chmodSync(configPath, 0o640);
      const r = await checkConfigFile(configPath);
      ctx.io.out(
        `${bundle.node}: installed ${configPath}\n${r.summary}\n${r.lines.join('\n')}${r.lines.length ? '\n' : ''}`,
      );
      if (!r.ok) ctx.setExit(EXIT_FAILED);
      else ctx.io.out(`fingerprint ${r.fingerprint}: the peer's must be the same (dsrd --check there)\n`);
    });
};
