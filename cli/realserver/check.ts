/**
 * Is this host set up as a DSR real server? Pure checks over facts read from the host
 * (host.ts reads them), so every rule is testable without touching a kernel.
 *
 * What a DSR real server needs, and why:
 * - every VIP on `lo` as a host route (/32, /128): the host accepts packets to the VIP and
 *   replies from it, while only the director owns the VIP on the LAN. A wider prefix on lo would
 *   make the host treat the whole subnet as local.
 * - the VIP on no other interface, or the host answers ARP/ND for it and steals the VIP.
 * - IPv4: the kernel answers ARP for any local address on any interface by default. With
 *   arp_ignore=1 it answers only for addresses on the interface the request came in on, so not
 *   for the VIP on lo; with arp_announce=2 it never uses the VIP as the source of its own ARP
 *   requests (which would teach neighbours that the VIP lives here). The kernel applies the larger
 *   of `all` and the interface's value (ip-sysctl.rst), so both count.
 * - IPv6 needs no sysctl: a neighbour solicitation is answered only for addresses on the
 *   receiving interface.
 * - strict reverse-path filtering (rp_filter=1) drops the DSR traffic whenever the route back to a
 *   client leaves by another interface than the one the packet came in on; loose (2) is safe.
 */
import { canonicalIp, type IpFamily, ipFamily } from '../../core/net/ip.ts';

export interface HostAddress {
  address: string;
  prefixLength: number;
  family: IpFamily;
}

export interface HostInterface {
  name: string;
  up: boolean;
  loopback: boolean;
  addresses: HostAddress[];
}

export interface HostFacts {
  interfaces: HostInterface[];
  /** sysctl values by dotted name (net.ipv4.conf.all.arp_ignore); undefined = not readable. */
  sysctl: Record<string, string | undefined>;
}

export type Level = 'error' | 'warning' | 'ok';

export interface Finding {
  level: Level;
  /** Stable id of the rule, e.g. "vip-on-lo". */
  check: string;
  subject: string;
  message: string;
  /** A command that fixes it, when there is a safe one. */
  fix?: string;
}

/** One spelling per address (RFC 5952 for IPv6) so "2001:2:0::200" matches "2001:2::200"; other text as is. */
export function canonical(address: string): string {
  return ipFamily(address) === null ? address : canonicalIp(address);
}

export function hostPrefix(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** The sysctl names the checks read, for the interfaces given. */
export function sysctlNames(ifnames: readonly string[]): string[] {
  const names = ['net.ipv6.conf.lo.disable_ipv6'];
  for (const scope of ['all', ...ifnames]) {
    for (const key of ['arp_ignore', 'arp_announce', 'rp_filter'])
      names.push(`net.ipv4.conf.${scope}.${key}`);
  }
  return names;
}

/** LAN-facing interfaces: up and not loopback. */
export function lanInterfaces(facts: HostFacts): HostInterface[] {
  return facts.interfaces.filter((i) => i.up && !i.loopback);
}

/** VIP candidates when none are given: global addresses on lo. */
export function vipsOnLoopback(facts: HostFacts): string[] {
  const lo = facts.interfaces.find((i) => i.loopback);
  if (lo === undefined) return [];
  return lo.addresses
    .filter(
      (a) => !(a.family === 4 && a.address.startsWith('127.')) && !(a.family === 6 && a.address === '::1'),
    )
    .map((a) => a.address);
}

function num(facts: HostFacts, name: string): number | undefined {
  const v = facts.sysctl[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  return Number.isInteger(n) ? n : undefined;
}

/** The value the kernel applies: max(all, interface) (IN_DEV_MAXCONF). */
function effective(
  facts: HostFacts,
  ifname: string,
  key: string,
): { value: number; all: number; dev: number } | undefined {
  const all = num(facts, `net.ipv4.conf.all.${key}`);
  const dev = num(facts, `net.ipv4.conf.${ifname}.${key}`);
  if (all === undefined || dev === undefined) return undefined;
  return { value: Math.max(all, dev), all, dev };
}

function checkVip(facts: HostFacts, vip: string): Finding[] {
  const out: Finding[] = [];
  const family = ipFamily(vip)!;
  const want = hostPrefix(family);
  const lo = facts.interfaces.find((i) => i.loopback);
  const onLo = lo?.addresses.find((a) => canonical(a.address) === vip);
  if (lo === undefined) {
    out.push({ level: 'error', check: 'lo-present', subject: 'lo', message: 'no loopback interface found' });
  } else if (!lo.up) {
    out.push({
      level: 'error',
      check: 'lo-up',
      subject: 'lo',
      message: 'lo is down',
      fix: 'ip link set lo up',
    });
  }
  if (lo !== undefined && onLo === undefined) {
    out.push({
      level: 'error',
      check: 'vip-on-lo',
      subject: vip,
      message: `VIP ${vip} is not on lo: this host drops (or resets) the flows the director sends it`,
      fix: `ip addr add ${vip}/${want} dev lo`,
    });
  } else if (onLo !== undefined && onLo.prefixLength !== want) {
    out.push({
      level: 'error',
      check: 'vip-prefix',
      subject: vip,
      message: `VIP ${vip} is on lo as /${onLo.prefixLength}: lo then claims the whole prefix and this host cannot reach its neighbours in it; use /${want}`,
      fix: `ip addr del ${vip}/${onLo.prefixLength} dev lo && ip addr add ${vip}/${want} dev lo`,
    });
  } else if (onLo !== undefined) {
    out.push({ level: 'ok', check: 'vip-on-lo', subject: vip, message: `VIP ${vip}/${want} is on lo` });
  }
  for (const iface of facts.interfaces) {
    if (iface.loopback) continue;
    const found = iface.addresses.find((a) => canonical(a.address) === vip);
    if (found === undefined) continue;
    out.push({
      level: 'error',
      check: 'vip-elsewhere',
      subject: vip,
      message: `VIP ${vip} is on ${iface.name}: this host answers ${family === 4 ? 'ARP' : 'neighbour solicitations'} for it and takes the VIP's traffic away from the director`,
      fix: `ip addr del ${vip}/${found.prefixLength} dev ${iface.name}`,
    });
  }
  if (family === 6 && num(facts, 'net.ipv6.conf.lo.disable_ipv6') === 1) {
    out.push({
      level: 'error',
      check: 'ipv6-lo',
      subject: 'lo',
      message: 'IPv6 is disabled on lo (net.ipv6.conf.lo.disable_ipv6=1): an IPv6 VIP cannot be held there',
      fix: 'sysctl -w net.ipv6.conf.lo.disable_ipv6=0',
    });
  }
  return out;
}

function checkArp(facts: HostFacts, iface: HostInterface): Finding[] {
  const out: Finding[] = [];
  const name = iface.name;
  const ignore = effective(facts, name, 'arp_ignore');
  if (ignore === undefined) {
    out.push({
      level: 'warning',
      check: 'arp-ignore',
      subject: name,
      message: `cannot read arp_ignore of ${name}`,
    });
  } else if (ignore.value === 0) {
    out.push({
      level: 'error',
      check: 'arp-ignore',
      subject: name,
      message: `${name} answers ARP for addresses held on other interfaces, so for the VIP on lo (arp_ignore: all=${ignore.all}, ${name}=${ignore.dev}; the kernel uses the larger; need 1)`,
      fix: `sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.${name}.arp_ignore=1`,
    });
  } else if (ignore.value > 3) {
    out.push({
      level: 'warning',
      check: 'arp-ignore',
      subject: name,
      message: `${name} answers no ARP at all (arp_ignore=${ignore.value}): neighbours cannot reach this host's own address`,
    });
  } else {
    out.push({
      level: 'ok',
      check: 'arp-ignore',
      subject: name,
      message: `${name} arp_ignore=${ignore.value}`,
    });
  }
  const announce = effective(facts, name, 'arp_announce');
  if (announce === undefined) {
    out.push({
      level: 'warning',
      check: 'arp-announce',
      subject: name,
      message: `cannot read arp_announce of ${name}`,
    });
  } else if (announce.value < 2) {
    out.push({
      level: 'error',
      check: 'arp-announce',
      subject: name,
      message: `${name} may put the VIP in the source of its own ARP requests, teaching neighbours that the VIP lives here (arp_announce: all=${announce.all}, ${name}=${announce.dev}; need 2)`,
      fix: `sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.${name}.arp_announce=2`,
    });
  } else {
    out.push({
      level: 'ok',
      check: 'arp-announce',
      subject: name,
      message: `${name} arp_announce=${announce.value}`,
    });
  }
  return out;
}

function checkRpFilter(facts: HostFacts, iface: HostInterface): Finding[] {
  const rp = effective(facts, iface.name, 'rp_filter');
  if (rp === undefined || rp.value !== 1) {
    const v = rp === undefined ? 'unknown' : String(rp.value);
    return [
      { level: 'ok', check: 'rp-filter', subject: iface.name, message: `${iface.name} rp_filter=${v}` },
    ];
  }
  return [
    {
      level: 'warning',
      check: 'rp-filter',
      subject: iface.name,
      message: `${iface.name} uses strict reverse-path filtering (rp_filter: all=${rp.all}, ${iface.name}=${rp.dev}): DSR traffic is dropped if the route back to a client leaves by another interface; loose (2) is safe`,
      fix: `sysctl -w net.ipv4.conf.${iface.name}.rp_filter=2`,
    },
  ];
}

/** Runs every check for the VIPs given (already validated addresses). */
export function checkRealServer(facts: HostFacts, vips: readonly string[]): Finding[] {
  const wanted = [...new Set(vips.map(canonical))];
  const findings = wanted.flatMap((vip) => checkVip(facts, vip));
  if (wanted.some((v) => ipFamily(v) === 4)) {
    for (const iface of lanInterfaces(facts))
      findings.push(...checkArp(facts, iface), ...checkRpFilter(facts, iface));
  }
  // lo-up is found once per VIP; say it once.
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.check}|${f.subject}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.level === 'error');
}
