import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type ConfigChangeSummary, MAX_DIFF_TEXT_BYTES } from '../../admin/catalogue/config.ts';
// config/index.ts is imported when needed: building its schemas costs about half a second.
import { DEFAULT_CONFIG_PATH } from '../../config/defaults.ts';
import { DsrError } from '../../core/errors.ts';
import { EXIT_FAILED } from '../../core/exit.ts';
import type { CommandModule } from '../program.ts';

export function formatChange(s: ConfigChangeSummary, verb: 'applied' | 'would apply'): string {
  if (!s.changed) return 'no change: the config is the one running\n';
  let out = `${verb === 'applied' ? 'reloaded' : 'differs'}: ${s.sections.join(', ')}\n`;
  out += s.changes.map((c) => `  ${c}\n`).join('');
  if (s.parts.length > 0)
    out += `parts ${verb === 'applied' ? 'updated' : 'to update'}: ${s.parts.join(', ')}\n`;
  if (s.needRestart.length > 0) out += `NEEDS A RESTART (a reload is refused): ${s.needRestart.join(', ')}\n`;
  return out;
}

export const configCommand: CommandModule = (program, ctx) => {
  const config = program.command('config').description('check, diff and reload the config');

  config
    .command('check')
    .description('validate a config file (no daemon needed); errors as file:line:col')
    .argument('[file]', 'config file', DEFAULT_CONFIG_PATH)
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { checkConfigFile } = await import('../../config/index.ts');
      const r = await checkConfigFile(file);
      const json = {
        ok: r.ok,
        file: r.file,
        summary: r.summary,
        fingerprint: r.fingerprint ?? null,
        errors: r.issues,
      };
      ctx.print(opts.json === true, json, () => (r.ok ? `${r.summary}\n` : ''));
      if (!r.ok) {
        if (opts.json !== true) ctx.io.err(`${[r.summary, ...r.lines].join('\n')}\n`);
        ctx.setExit(EXIT_FAILED);
      }
    });

  config
    .command('reload')
    .description('make the daemon load its config file again (like SIGHUP); a broken file changes nothing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const result = await ctx.call('config.reload', {});
      ctx.print(opts.json === true, result, () => formatChange(result, 'applied'));
    });

  config
    .command('diff')
    .description('what would change if the daemon ran FILE instead of its current config')
    .argument('<file>', 'candidate config file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new DsrError('E_CONFIG_READ', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`, {
          file,
        });
      }
      if (Buffer.byteLength(text) > MAX_DIFF_TEXT_BYTES) {
        throw new DsrError(
          'E_USAGE',
          `${file} is larger than ${MAX_DIFF_TEXT_BYTES} bytes, more than one admin request carries; check it with "dsrctl config check" and reload`,
          { file },
        );
      }
      const result = await ctx.call('config.diff', { text, file: resolve(file) });
      ctx.print(opts.json === true, result, () => formatChange(result, 'would apply'));
    });
};
