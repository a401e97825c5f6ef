/**
 * `dsrctl keys` and `dsrctl keys rotate add|switch|finish` (issue 25): the election key rotation
 * of core/auth/README.md on a running pair, without a restart. Each step edits this director's
 * config, writes or removes a key file (0600), and reloads dsrd; a step a peer is not ready for
 * is refused (cli/keys/rotation.ts), and a reload that fails puts the files back as they were.
 *
 *   on lb1: dsrctl keys rotate add            -> keys/election-2.key; copy it to lb2
 *   on lb2: dsrctl keys rotate add --key FILE
 *   on lb1, then lb2: dsrctl keys rotate switch
 *   on lb1, then lb2: dsrctl keys rotate finish
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { MIN_KEY_BYTES } from '../../config/files.ts';
import { DsrError } from '../../core/errors.ts';
import { usage } from '../../core/exit.ts';
import {
  addKey,
  dropOtherKey,
  type KeySet,
  nextKeyId,
  type PeerKeysView,
  type RotationStep,
  refusal,
  rotationStage,
  sendKeyFile,
  switchKey,
} from '../keys/rotation.ts';
import { writePrivateFile } from '../private-file.ts';
import type { CliContext, CommandModule } from '../program.ts';

interface KeysView {
  configPath: string;
  ours: KeySet;
  peers: PeerKeysView[];
}

async function keysView(ctx: CliContext): Promise<KeysView> {
  const s = (await ctx.call('status', {})) as DaemonStatus;
  const election = s.parts.find((p) => p.name === 'election')?.status as
    | { election?: { transport?: { keys?: KeySet } | null } }
    | undefined;
  const ours = election?.election?.transport?.keys;
  if (ours === undefined) {
    throw new DsrError(
      'E_KEY_ROTATION',
      'this director has no election transport (no peers): no keys to rotate',
      {},
    );
  }
  return {
    configPath: s.config.path,
    ours,
    peers: s.peers.map((p) => ({ id: p.id, keys: p.keys ?? null })),
  };
}

const keyText = (k: KeySet | null): string =>
  k === null ? 'not heard' : `signs with ${k.sendsWith}, accepts ${k.accepts.join(', ')}`;

function describe(v: KeysView): string {
  const { stage, next } = rotationStage(v.ours);
  const peers = v.peers.map((p) => `  ${p.id}: ${keyText(p.keys)}\n`).join('');
  const why = refusal(next, v.ours, v.peers);
  return `here: ${stage}\n${peers}next here: dsrctl keys rotate ${next}${why === null ? '' : ` (not yet: ${why})`}\n`;
}

/** The config file's text and the files a step wrote or will remove, for the way back. */
interface Edit {
  configPath: string;
  before: string;
  after: string;
  written?: string;
  removed?: string;
}

async function apply(ctx: CliContext, e: Edit): Promise<void> {
  const mode = statSync(e.configPath).mode & 0o777;
  writeFileSync(e.configPath, e.after, { mode });
  try {
    await ctx.call('config.reload', {});
  } catch (err) {
    writeFileSync(e.configPath, e.before, { mode });
    if (e.written !== undefined) rmSync(e.written, { force: true });
    throw err;
  }
  // Only once dsrd runs without it: the old key's secret leaves the disk.
  if (e.removed !== undefined) rmSync(e.removed, { force: true });
}

function writeKey(path: string, bytes: Buffer): void {
  if (existsSync(path)) {
    throw new DsrError('E_KEY_ROTATION', `${path} exists already: remove it or pass it with --key`, { path });
  }
  writePrivateFile(path, bytes);
}

async function step(ctx: CliContext, which: RotationStep, opts: { key?: string }): Promise<string> {
  const v = await keysView(ctx);
  const why = refusal(which, v.ours, v.peers);
  if (why !== null) throw new DsrError('E_KEY_ROTATION', `keys rotate ${which}: ${why}`, { step: which });
  const before = readFileSync(v.configPath, 'utf8');
  const doc = parseDocument(before);
  const fromConfig = (f: string) => (isAbsolute(f) ? f : resolve(dirname(v.configPath), f));
  if (which === 'add') {
    const id = nextKeyId(v.ours);
    const named = join(dirname(sendKeyFile(doc, v.ours)), `election-${id}.key`);
    const path = fromConfig(named);
    let written: string | undefined;
    if (opts.key === undefined) {
      writeKey(path, randomBytes(32));
      written = path;
    } else if (resolve(opts.key) !== path) {
      const bytes = readFileSync(opts.key);
      if (bytes.length < MIN_KEY_BYTES)
        throw usage(`--key ${opts.key}: a key is at least ${MIN_KEY_BYTES} bytes`);
      writeKey(path, bytes);
      written = path;
    }
    addKey(doc, v.ours, id, named);
    await apply(ctx, { configPath: v.configPath, before, after: doc.toString(), written });
    const peers = v.peers.map((p) => p.id).join(', ');
    const next =
      opts.key === undefined
        ? `copy ${path} to ${peers} (0600) and run there: dsrctl keys rotate add --key FILE`
        : 'dsrctl keys rotate switch, on each director';
    return `added key ${id} (${path}); still signing with ${v.ours.sendsWith}.\nnext: ${next}\n`;
  }
  if (which === 'switch') {
    const id = switchKey(doc, v.ours);
    await apply(ctx, { configPath: v.configPath, before, after: doc.toString() });
    return `signing with key ${id}; still accepting ${v.ours.sendsWith}.\nnext: switch on every other director, then dsrctl keys rotate finish on each\n`;
  }
  const file = fromConfig(dropOtherKey(doc, v.ours));
  await apply(ctx, { configPath: v.configPath, before, after: doc.toString(), removed: file });
  return `only key ${v.ours.sendsWith} is accepted now; ${file} removed.\n`;
}

export const keysCommand: CommandModule = (program, ctx) => {
  const keys = program
    .command('keys')
    .description('the election keys: where a rotation stands, and its steps');

  keys
    .command('status')
    .description("this director's keys, each peer's (from its adverts), and the next rotation step")
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const v = await keysView(ctx);
      ctx.print(opts.json === true, { ...v, ...rotationStage(v.ours) }, () => describe(v));
    });

  keys
    .command('rotate')
    .description(
      'one step of a key rotation, without a restart: add (accept a new key), switch (sign with it), finish (drop the old one)',
    )
    .argument('<add|switch|finish>', 'the step')
    .option('--key <file>', 'add: the new key, as written by "keys rotate add" on the first director')
    .action(async (which: string, opts: { key?: string }) => {
      if (which !== 'add' && which !== 'switch' && which !== 'finish')
        throw usage(`keys rotate ${which}: say add, switch or finish`);
      if (opts.key !== undefined && which !== 'add') throw usage('--key goes with add only');
      ctx.io.out(await step(ctx, which, opts));
    });
};
