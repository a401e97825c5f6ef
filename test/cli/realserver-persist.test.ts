/**
 * `dsrctl realserver setup --persist` (issue 25): the sysctl.d file and the enabled oneshot unit
 * that put a real server's DSR setup back at every boot; `--root` writes them into another
 * system's tree and changes nothing live.
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { planPersist, SYSCTL_FILE, VIPS_UNIT_FILE, VIPS_UNIT_LINK } from '../../cli/realserver/persist.ts';
import { dsrctl } from '../../lab/binaries.ts';

test('the files for IPv4 and IPv6 VIPs, with the loose rp_filter setup chose', (t) => {
  const plan = planPersist(
    ['198.18.100.10', '2001:2:0:100:0::10'],
    [
      { kind: 'sysctl', name: 'net.ipv4.conf.eth0.rp_filter', value: '2' },
      { kind: 'sysctl', name: 'net.ipv4.conf.all.arp_ignore', value: '1' },
    ],
  );
  const sysctl = plan.files.find((f) => f.path === SYSCTL_FILE)!.text;
  t.regex(sysctl, /^net\.ipv4\.conf\.all\.arp_ignore = 1$/m);
  t.regex(sysctl, /^net\.ipv4\.conf\.all\.arp_announce = 2$/m);
  t.regex(sysctl, /^net\.ipv6\.conf\.lo\.disable_ipv6 = 0$/m);
  t.regex(sysctl, /^net\.ipv4\.conf\.eth0\.rp_filter = 2$/m);
  t.is(sysctl.match(/^net\.ipv4\.conf\.all\.arp_ignore/gm)?.length, 1, 'once, whatever setup ran');
  const unit = plan.files.find((f) => f.path === VIPS_UNIT_FILE)!.text;
  t.regex(unit, /^ExecStart=\/usr\/sbin\/ip addr replace 198\.18\.100\.10\/32 dev lo$/m);
  t.regex(unit, /^ExecStart=\/usr\/sbin\/ip addr replace 2001:2:0:100::10\/128 dev lo$/m);
  t.regex(unit, /^Type=oneshot$/m);
  t.regex(unit, /^WantedBy=multi-user\.target$/m);
  t.deepEqual(plan.links, [{ path: VIPS_UNIT_LINK, target: VIPS_UNIT_FILE }]);

  const v6only = planPersist(['2001:2::10'], []).files.find((f) => f.path === SYSCTL_FILE)!.text;
  t.notRegex(v6only, /arp_/, 'ARP is IPv4');
});

test('--persist --root writes the files into another tree, enabled, and changes nothing live', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dsr-rs-root-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const r = await dsrctl(['realserver', 'setup', '--vip', '198.18.100.10', '--persist', '--root', root]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /wrote under/);
  t.regex(readFileSync(join(root, SYSCTL_FILE), 'utf8'), /arp_announce = 2/);
  t.is(statSync(join(root, VIPS_UNIT_FILE)).mode & 0o777, 0o644);
  t.is(readlinkSync(join(root, VIPS_UNIT_LINK)), VIPS_UNIT_FILE, 'enabled as systemctl enable does');
  // Again: the same files, replaced whole.
  t.is(
    (await dsrctl(['realserver', 'setup', '--vip', '198.18.100.10', '--persist', '--root', root])).code,
    0,
  );

  const bad = await dsrctl(['realserver', 'setup', '--vip', '198.18.100.10', '--root', root]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--root goes with --persist/);
});
