/**
 * `dsrctl realserver setup --persist`: what makes a real server's DSR setup survive a reboot.
 * `setup` changes the running kernel only; after a reboot the VIPs are gone from lo and the ARP
 * sysctls back at their defaults, and the first the operator hears of it is a real server
 * answering ARP for the VIP (it steals the VIP from the director) or dropping the VIP's traffic.
 *
 * Two files, each owned whole by this command (rewritten, never merged):
 * - /etc/sysctl.d/90-dsr-realserver.conf: arp_ignore=1 and arp_announce=2 for all interfaces
 *   (IPv4 VIPs; the kernel uses max(all, interface)), lo's IPv6 on (IPv6 VIPs), and the loose
 *   rp_filter `setup` set on the LAN interfaces (systemd-sysctl applies it at boot).
 * - /etc/systemd/system/dsr-realserver-vips.service: a oneshot that adds the VIPs to lo at boot
 *   (`ip addr replace`, idempotent), enabled by its multi-user.target.wants link, as
 *   `systemctl enable` makes it, so it also works written into an image or a chroot.
 * planPersist is pure (the files as path, text and mode); writePersist writes a plan under a root.
 */
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ipFamily } from '../../core/net/ip.ts';
import { canonical, hostPrefix } from './check.ts';
import type { SetupAction } from './setup.ts';

export const SYSCTL_FILE = '/etc/sysctl.d/90-dsr-realserver.conf';
export const VIPS_UNIT = 'dsr-realserver-vips.service';
export const VIPS_UNIT_FILE = `/etc/systemd/system/${VIPS_UNIT}`;
export const VIPS_UNIT_LINK = `/etc/systemd/system/multi-user.target.wants/${VIPS_UNIT}`;

export interface PersistFile {
  path: string;
  text: string;
  mode: number;
}

export interface PersistPlan {
  files: PersistFile[];
  /** A symlink: path → target. */
  links: { path: string; target: string }[];
}

/** The files for `vips`, with the rp_filter lines of the sysctl actions `setup` planned or ran. */
export function planPersist(vips: readonly string[], actions: readonly SetupAction[]): PersistPlan {
  const wanted = [...new Set(vips.map(canonical))];
  const v4 = wanted.some((v) => ipFamily(v) === 4);
  const v6 = wanted.some((v) => ipFamily(v) === 6);
  const sysctl = ['# Written by dsrctl realserver setup --persist: this host is a DSR real server.'];
  if (v4) {
    sysctl.push(
      '# Answer ARP only for addresses on the receiving interface (not the VIPs on lo), and',
      '# announce only addresses of the outgoing interface: the director alone owns the VIPs.',
      'net.ipv4.conf.all.arp_ignore = 1',
      'net.ipv4.conf.all.arp_announce = 2',
    );
  }
  if (v6) sysctl.push('# IPv6 VIPs on lo.', 'net.ipv6.conf.lo.disable_ipv6 = 0');
  const rp = actions.filter(
    (a): a is Extract<SetupAction, { kind: 'sysctl' }> =>
      a.kind === 'sysctl' && a.name.endsWith('.rp_filter'),
  );
  if (rp.length > 0) {
    sysctl.push('# Loose reverse-path filtering: replies leave from the VIP, which is on lo.');
    for (const a of rp) sysctl.push(`${a.name} = ${a.value}`);
  }
  const adds = wanted.map(
    (v) => `ExecStart=/usr/sbin/ip addr replace ${v}/${hostPrefix(ipFamily(v)!)} dev lo`,
  );
  const unit = [
    '# Written by dsrctl realserver setup --persist: the DSR VIPs on lo at boot.',
    '[Unit]',
    'Description=dsr-director real server: VIPs on the loopback interface',
    'DefaultDependencies=no',
    'After=systemd-sysctl.service',
    'Before=network-pre.target',
    'Wants=network-pre.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'ExecStart=/usr/sbin/ip link set lo up',
    ...adds,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return {
    files: [
      { path: SYSCTL_FILE, text: `${sysctl.join('\n')}\n`, mode: 0o644 },
      { path: VIPS_UNIT_FILE, text: unit.join('\n'), mode: 0o644 },
    ],
    links: [{ path: VIPS_UNIT_LINK, target: VIPS_UNIT_FILE }],
  };
}

/** Writes the plan under `root` ("/" for this host): parent directories made, files replaced whole. */
/** Every path a plan writes: its files, then its links. */
export function persistedPaths(plan: PersistPlan): string[] {
  return [...plan.files.map((f) => f.path), ...plan.links.map((l) => l.path)];
}

export function writePersist(plan: PersistPlan, root: string): void {
  for (const f of plan.files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text, { mode: f.mode });
    chmodSync(path, f.mode);
  }
  for (const l of plan.links) {
    const path = join(root, l.path);
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    symlinkSync(l.target, path);
  }
}
