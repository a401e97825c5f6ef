/**
 * dsrctl(1) drawn from the command tree itself: every command and subcommand with its arguments,
 * options and defaults, as `--help` prints them, so the page cannot fall behind the program.
 */
import type { Command } from 'commander';
import { DEFAULT_ADMIN_SOCKET } from '../admin/server.ts';
import { DEFAULT_CONFIG_PATH } from '../config/index.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE } from '../core/exit.ts';
import { type ManSection, renderManPage, roffItem, roffText } from '../core/roff.ts';

function options(cmd: Command): string[] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const dflt =
        o.defaultValue === undefined || o.defaultValue === false
          ? ''
          : ` (default: ${String(o.defaultValue)})`;
      return roffItem(o.flags, `${o.description}${dflt}`);
    });
}

/** Each command under `cmd`, depth first: its usage line, description, arguments and options. */
function commands(cmd: Command, path: string): string[] {
  return cmd.commands.flatMap((sub) => {
    const full = `${path} ${sub.name()}`;
    return [
      `.SS "${roffText(`${full} ${sub.usage()}`)}"`,
      roffText(sub.description()),
      ...sub.registeredArguments.map((a) => roffItem(a.name(), a.description)),
      ...options(sub),
      ...commands(sub, full),
    ];
  });
}

export function dsrctlManPage(program: Command, o: { version: string; date: string }): string {
  const sections: ManSection[] = [
    {
      title: 'Synopsis',
      body: `.B dsrctl\n[\\fB\\-s\\fR \\fIsocket\\fR] \\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]`,
    },
    {
      title: 'Description',
      body: roffText(
        'dsrctl talks to the dsrd daemon of this director over its admin socket (a unix socket that the ' +
          'dsr-admin group may use): status, drains, failovers and drills, key rotation, alerts. A few ' +
          'commands run without the daemon: pair init and pair join (the configs of a new pair), and ' +
          'realserver setup and check (on a real server). Every command takes --help; most take --json.',
      ),
    },
    { title: 'Global options', body: options(program).join('\n') },
    { title: 'Commands', body: commands(program, 'dsrctl').join('\n') },
    {
      title: 'Exit status',
      body: [
        roffItem(String(EXIT_OK), 'done; a status or check found nothing wrong'),
        roffItem(
          String(EXIT_FAILED),
          'the command failed, or found something wrong (a part not running, a group in Fault, a refused step)',
        ),
        roffItem(String(EXIT_USAGE), 'the command line is not valid'),
        roffItem(String(EXIT_UNREACHABLE), 'the daemon does not answer on its socket'),
      ].join('\n'),
    },
    {
      title: 'Environment',
      body: roffItem('DSRCTL_SOCKET', 'the admin socket, when -s is not given'),
    },
    {
      title: 'Files',
      body: [
        roffItem(DEFAULT_ADMIN_SOCKET, "the daemon's admin socket"),
        roffItem(DEFAULT_CONFIG_PATH, "the daemon's config (keys rotate edits the one the daemon runs)"),
      ].join('\n'),
    },
    { title: 'See also', body: '.BR dsrd (8)' },
  ];
  return renderManPage({
    name: 'dsrctl',
    section: 1,
    summary: program.description().replace(/\.$/, ''),
    version: o.version,
    date: o.date,
    sections,
  });
}
