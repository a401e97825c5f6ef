import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '../../config/defaults.ts';
import { loadConfig } from '../../config/load.ts';
import { CMD, type ConfigChangeSummary } from '../../core/admin/contracts.ts';
import { DsrError, isDsrError } from '../../core/errors.ts';
import { EXIT_FAILED } from '../exit.ts';
import type { CommandModule } from '../program.ts';

export function formatChange(s: ConfigChangeSummary, verb: 'applied' | 'would apply'): string {
  if (!s.changed) return 'no change: the config is the one running\n';
  let out = `${verb === 'applied' ? 'reloaded' : 'differs'}: ${s.sections.join(', ')}\n`;
  out += s.changes.map((c) => `  ${c}\n`).join('');
  if (s.parts.length > 0)
    out += `parts ${verb === 'applied' ? 'updated' : 'to update'}: ${s.parts.join(', ')}\n`;
  if (s.needRestart.length > 0) out += `NEEDS A RESTART (a reload is refused): ${s.needRestart.join(', ')}\n`;
  if (!s.fingerprintSame)
    out += `fingerprint changes to ${s.fingerprint.slice(0, 12)}: apply the same change on the peers\n`;
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
      try {
        const c = await loadConfig(file);
        const summary = {
          ok: true,
          file,
          node: c.node.id,
          vipGroups: c.vipGroups.length,
          services: c.services.length,
        };
        ctx.print(
          opts.json === true,
          summary,
          () =>
            `${file}: OK (node ${c.node.id}, ${c.vipGroups.length} VIP groups, ${c.services.length} services)\n`,
        );
      } catch (err) {
        if (!isDsrError(err) || !err.code.startsWith('E_CONFIG')) throw err;
        ctx.print(
          opts.json === true,
          { ok: false, file, code: err.code, errors: err.context.errors ?? [] },
          () => '',
        );
        if (opts.json !== true) ctx.io.err(`${err.message.replace(/^E_CONFIG_\w+: /, '')}\n`);
        ctx.setExit(EXIT_FAILED);
      }
    });

  config
    .command('reload')
    .description('make the daemon load its config file again (like SIGHUP); a broken file changes nothing')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const result = (await ctx.call(CMD.configReload)) as ConfigChangeSummary;
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
      const result = (await ctx.call(CMD.configDiff, { text, file: resolve(file) })) as ConfigChangeSummary;
      ctx.print(opts.json === true, result, () => formatChange(result, 'would apply'));
    });
};
