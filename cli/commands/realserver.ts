/**
 * `dsrctl realserver check|setup`: run on a real-server host itself, not through the daemon.
 */
import { Option } from 'commander';
import { DsrError } from '../../core/errors.ts';
import { EXIT_FAILED, usage } from '../../core/exit.ts';
import { ipFamily } from '../../core/net/ip.ts';
import type { CommandModule } from '../program.ts';
import { canonical, checkRealServer, type Finding, hasErrors, vipsOnLoopback } from '../realserver/check.ts';
import { LocalRealServerHost, type RealServerHost } from '../realserver/host.ts';
import { persistedPaths, planPersist, SYSCTL_FILE, VIPS_UNIT, writePersist } from '../realserver/persist.ts';
import { describeAction, planSetup, type SetupAction } from '../realserver/setup.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function validVips(vips: readonly string[]): string[] {
  for (const v of vips) {
    if (ipFamily(v) === null) throw usage(`--vip ${v} is not an IPv4 or IPv6 address (no prefix length)`);
  }
  return vips.map(canonical);
}

export function formatFindings(findings: readonly Finding[]): string {
  const mark = { ok: 'ok  ', warning: 'WARN', error: 'FAIL' } as const;
  let out = '';
  for (const f of findings) {
    out += `${mark[f.level]}  ${f.message}\n`;
    if (f.fix !== undefined && f.level !== 'ok') out += `      fix: ${f.fix}\n`;
  }
  const errors = findings.filter((f) => f.level === 'error').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  out +=
    errors === 0
      ? `this host is ready as a DSR real server${warnings > 0 ? ` (${warnings} warning(s))` : ''}\n`
      : `${errors} problem(s): this host is not ready as a DSR real server\n`;
  return out;
}

/** The command over a given host (the real one in dsrctl, a fake in tests). */
export function realserverCommandFor(realServerHost: () => RealServerHost): CommandModule {
  return (program, ctx) => {
    const rs = program
      .command('realserver')
      .description('check or set up this host as a DSR real server (runs locally)');

    rs.command('check')
      .description('check VIPs on lo, arp_ignore/arp_announce and rp_filter; say exactly what is wrong')
      .addOption(
        new Option('--vip <address>', 'a VIP this host serves (repeatable); default: the addresses on lo')
          .default([])
          .argParser(collect),
      )
      .option('--json', 'print the findings as JSON')
      .action(async (opts: { vip: string[]; json?: boolean }) => {
        const host = realServerHost();
        const facts = await host.facts();
        let vips = validVips(opts.vip);
        if (vips.length === 0) vips = vipsOnLoopback(facts);
        if (vips.length === 0) throw usage('no VIP on lo to check; name the VIPs with --vip');
        const findings = checkRealServer(facts, vips);
        const ok = !hasErrors(findings);
        ctx.print(opts.json === true, { ok, vips, findings }, () => formatFindings(findings));
        if (!ok) ctx.setExit(EXIT_FAILED);
      });

    rs.command('setup')
      .description(
        'add the VIPs to lo and set arp_ignore=1, arp_announce=2, loose rp_filter (needs root); --persist: also at every boot',
      )
      .addOption(
        new Option('--vip <address>', 'a VIP this host serves (repeatable)').default([]).argParser(collect),
      )
      .option('--dry-run', 'print what would be done, change nothing')
      .option('--persist', `also write ${SYSCTL_FILE} and ${VIPS_UNIT} (enabled), so it holds after a reboot`)
      .option(
        '--root <dir>',
        'with --persist: write the files under this directory (an image, a chroot) and change nothing live',
      )
      .option('--json', 'print the result as JSON')
      .action(
        async (opts: {
          vip: string[];
          dryRun?: boolean;
          persist?: boolean;
          root?: string;
          json?: boolean;
        }) => {
          const vips = validVips(opts.vip);
          if (vips.length === 0) throw usage('realserver setup needs at least one --vip');
          if (opts.root !== undefined && opts.persist !== true) throw usage('--root goes with --persist');
          if (opts.root !== undefined) {
            // Another system's files: nothing here to check or change.
            const plan = planPersist(vips, []);
            if (opts.dryRun !== true) writePersist(plan, opts.root);
            const written = persistedPaths(plan);
            ctx.print(
              opts.json === true,
              { ok: true, dryRun: opts.dryRun === true, root: opts.root, written },
              () =>
                `${opts.dryRun === true ? 'would write' : 'wrote'} under ${opts.root}:\n${written.map((w) => `  ${w}\n`).join('')}`,
            );
            return;
          }
          const host = realServerHost();
          const actions = planSetup(await host.facts(), vips);
          const applied: SetupAction[] = [];
          const persisted = opts.persist === true ? planPersist(vips, actions) : null;
          if (opts.dryRun !== true) {
            for (const a of actions) {
              try {
                await host.apply(a);
              } catch (err) {
                const why = err instanceof DsrError ? err.message : String(err);
                throw new DsrError('E_REALSERVER', `setup stopped at "${describeAction(a)}": ${why}`, {
                  applied: applied.map(describeAction),
                });
              }
              applied.push(a);
            }
          }
          if (persisted !== null && opts.dryRun !== true) writePersist(persisted, '/');
          const findings = checkRealServer(await host.facts(), vips);
          const ok = !hasErrors(findings);
          const steps = actions.map(describeAction);
          const written = persisted === null ? [] : persistedPaths(persisted);
          ctx.print(
            opts.json === true,
            { ok, dryRun: opts.dryRun === true, actions: steps, persisted: written, findings },
            () => {
              const head =
                steps.length === 0
                  ? 'nothing to change\n'
                  : `${opts.dryRun === true ? 'would run' : 'ran'}:\n${steps.map((s) => `  ${s}\n`).join('')}`;
              const note =
                written.length > 0
                  ? `${opts.dryRun === true ? 'would write' : 'wrote'} (for every boot):\n${written.map((w) => `  ${w}\n`).join('')}`
                  : opts.dryRun === true || steps.length === 0
                    ? ''
                    : 'note: these changes do not survive a reboot; run again with --persist\n';
              return head + note + formatFindings(findings);
            },
          );
          if (!ok) ctx.setExit(EXIT_FAILED);
        },
      );
  };
}

export const realserverCommand: CommandModule = realserverCommandFor(() => new LocalRealServerHost());
