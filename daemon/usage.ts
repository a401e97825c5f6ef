/**
 * dsrd's command line as data: the `--help` text and the dsrd(8) manual page are both drawn from it.
 */
import { DEFAULT_ADMIN_SOCKET } from '../admin/server.ts';
import { DEFAULT_CONFIG_PATH } from '../config/index.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../core/exit.ts';
import { type ManSection, renderManPage, roffItem, roffText } from '../core/roff.ts';

const OPTIONS: readonly { flags: string; text: string }[] = [
  { flags: '-c, --config FILE', text: `config file (default ${DEFAULT_CONFIG_PATH})` },
  { flags: '-t, --check', text: 'validate the config file and exit: 0 valid, 1 errors (file:line:col)' },
  {
    flags: '--cleanup',
    text: "remove this director's VIPs from their interfaces (after it ended without releasing them: kill -9, a crash) and exit: 0 done, 1 failed",
  },
  { flags: '--json', text: 'with --check or --cleanup: print the result as JSON' },
  { flags: '-h, --help', text: 'this help' },
  { flags: '-v, --version', text: 'print the version' },
];

/** `dsrd --help`: the options, each wrapped under its flags. */
export const USAGE = `usage: dsrd [--config FILE] [--check | --cleanup] [--json]\n\n${OPTIONS.map((o) => {
  const flags = o.flags.startsWith('--') ? `      ${o.flags}` : `  ${o.flags}`;
  const words = o.text.split(' ');
  const lines: string[] = [];
  for (const w of words) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + w.length < 74) lines[lines.length - 1] = `${last} ${w}`;
    else lines.push(w);
  }
  return `${flags.padEnd(22)}${lines.join(`\n${' '.repeat(22)}`)}\n`;
}).join('')}`;

export function dsrdManPage(o: { version: string; date: string }): string {
  const sections: ManSection[] = [
    {
      title: 'Synopsis',
      body: '.B dsrd\n[\\fB\\-\\-config\\fR \\fIfile\\fR] [\\fB\\-\\-check\\fR | \\fB\\-\\-cleanup\\fR] [\\fB\\-\\-json\\fR]',
    },
    {
      title: 'Description',
      body: roffText(
        'dsrd is the daemon of a dsr-director: a Layer-4 Direct Server Return load-balancer director. ' +
          "Two or more directors elect a master for each VIP group; the master holds the group's VIPs " +
          'and its XDP program sends each client packet on to a real server by rewriting its ' +
          'destination MAC, and the real servers answer the clients directly. Connections and ' +
          'persistence entries are synced to the peers, so a takeover breaks none. It runs under ' +
          'systemd (dsrd.service: Type=notify, watchdog, ExecStopPost=dsrd --cleanup); SIGHUP or ' +
          '"dsrctl config reload" reloads the config, and a broken config keeps the old one running.',
      ),
    },
    { title: 'Options', body: OPTIONS.map((x) => roffItem(x.flags, x.text)).join('\n') },
    {
      title: 'Exit status',
      body: [
        roffItem(String(EXIT_OK), 'a clean stop; a valid config (--check); VIPs removed (--cleanup)'),
        roffItem(String(EXIT_FAILED), 'a bad config, a part that failed to start or stop, a failed cleanup'),
        roffItem(String(EXIT_USAGE), 'the command line is not valid'),
      ].join('\n'),
    },
    {
      title: 'Files',
      body: [
        roffItem(DEFAULT_CONFIG_PATH, 'the config (an example: /etc/dsr-director/dsrd.yaml.example)'),
        roffItem('/etc/dsr-director/keys/', 'the election and sync keys (mode 0600)'),
        roffItem(DEFAULT_ADMIN_SOCKET, 'the admin socket dsrctl talks to (group dsr-admin)'),
        roffItem(
          '/var/lib/dsr-director/',
          'session ids and replay state that survive restarts, the maintenance hold',
        ),
        roffItem('/sys/fs/bpf/dsr-director/', "the forwarder's pinned maps: flows survive a restart"),
        roffItem('/usr/share/dsr-director/', 'Prometheus alert rules and a Grafana dashboard'),
        roffItem(
          '/usr/share/doc/dsr-director/',
          'README.md and docs/ (install.md: from two bare machines to a drill)',
        ),
      ].join('\n'),
    },
    { title: 'See also', body: '.BR dsrctl (1),\n.BR systemctl (1),\n.BR journalctl (1)' },
  ];
  return renderManPage({
    name: 'dsrd',
    section: 8,
    summary: 'highly available Layer-4 Direct Server Return load-balancer director daemon',
    version: o.version,
    date: o.date,
    sections,
  });
}
