/**
 * What `dsrctl realserver setup` changes: only safe, additive steps (bring lo up, add the VIP to
 * lo, raise sysctls). It never removes an address or lowers a setting: a VIP found on a LAN
 * interface, or on lo with the wrong prefix, is reported with the command to fix it, because a
 * wrong --vip (this host's own address) must not cut the host off.
 */
import { ipFamily } from '../../core/net/ip.ts';
import { canonical, type HostFacts, hostPrefix, lanInterfaces } from './check.ts';

export type SetupAction =
  | { kind: 'link-up'; ifname: string }
  | { kind: 'add-address'; ifname: string; address: string; prefixLength: number }
  | { kind: 'sysctl'; name: string; value: string };

export function describeAction(a: SetupAction): string {
  switch (a.kind) {
    case 'link-up':
      return `ip link set ${a.ifname} up`;
    case 'add-address':
      return `ip addr add ${a.address}/${a.prefixLength} dev ${a.ifname}`;
    case 'sysctl':
      return `sysctl -w ${a.name}=${a.value}`;
  }
}

function read(facts: HostFacts, name: string): number | undefined {
  const v = facts.sysctl[name];
  return v === undefined || v.trim() === '' ? undefined : Number(v.trim());
}

export function planSetup(facts: HostFacts, vips: readonly string[]): SetupAction[] {
  const actions: SetupAction[] = [];
  const wanted = [...new Set(vips.map(canonical))];
  const lo = facts.interfaces.find((i) => i.loopback);
  if (lo === undefined) return actions;
  if (!lo.up) actions.push({ kind: 'link-up', ifname: lo.name });
  if (wanted.some((v) => ipFamily(v) === 6) && read(facts, 'net.ipv6.conf.lo.disable_ipv6') === 1) {
    actions.push({ kind: 'sysctl', name: `net.ipv6.conf.${lo.name}.disable_ipv6`, value: '0' });
  }
  for (const vip of wanted) {
    const family = ipFamily(vip)!;
    const present = lo.addresses.some((a) => canonical(a.address) === vip);
    if (!present)
      actions.push({ kind: 'add-address', ifname: lo.name, address: vip, prefixLength: hostPrefix(family) });
  }
  if (wanted.some((v) => ipFamily(v) === 4)) {
    // The kernel uses max(all, interface): raising `all` fixes every interface at once.
    if ((read(facts, 'net.ipv4.conf.all.arp_ignore') ?? 0) < 1) {
      const anyZero = lanInterfaces(facts).some(
        (i) => (read(facts, `net.ipv4.conf.${i.name}.arp_ignore`) ?? 0) < 1,
      );
      if (anyZero || lanInterfaces(facts).length === 0) {
        actions.push({ kind: 'sysctl', name: 'net.ipv4.conf.all.arp_ignore', value: '1' });
      }
    }
    if ((read(facts, 'net.ipv4.conf.all.arp_announce') ?? 0) < 2) {
      const anyLow = lanInterfaces(facts).some(
        (i) => (read(facts, `net.ipv4.conf.${i.name}.arp_announce`) ?? 0) < 2,
      );
      if (anyLow || lanInterfaces(facts).length === 0) {
        actions.push({ kind: 'sysctl', name: 'net.ipv4.conf.all.arp_announce', value: '2' });
      }
    }
    for (const iface of lanInterfaces(facts)) {
      const all = read(facts, 'net.ipv4.conf.all.rp_filter') ?? 0;
      const dev = read(facts, `net.ipv4.conf.${iface.name}.rp_filter`) ?? 0;
      if (Math.max(all, dev) === 1) {
        actions.push({ kind: 'sysctl', name: `net.ipv4.conf.${iface.name}.rp_filter`, value: '2' });
      }
    }
  }
  return actions;
}
