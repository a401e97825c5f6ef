import test from 'ava';
import { checkRealServer, type HostFacts, hasErrors, vipsOnLoopback } from '../../cli/realserver/check.ts';
import { parseIpAddrJson, sysctlPath } from '../../cli/realserver/host.ts';
import { describeAction, planSetup } from '../../cli/realserver/setup.ts';

const VIP4 = '198.18.0.200';
const VIP6 = '2001:2::200';

/** A correctly set up real server, which each test then breaks in one way. */
function goodHost(): HostFacts {
  return {
    interfaces: [
      {
        name: 'lo',
        up: true,
        loopback: true,
        addresses: [
          { address: '127.0.0.1', prefixLength: 8, family: 4 },
          { address: VIP4, prefixLength: 32, family: 4 },
          { address: '::1', prefixLength: 128, family: 6 },
          { address: VIP6, prefixLength: 128, family: 6 },
        ],
      },
      {
        name: 'eth0',
        up: true,
        loopback: false,
        addresses: [{ address: '198.18.0.100', prefixLength: 24, family: 4 }],
      },
      { name: 'eth1', up: false, loopback: false, addresses: [] },
    ],
    sysctl: {
      'net.ipv4.conf.all.arp_ignore': '1',
      'net.ipv4.conf.eth0.arp_ignore': '0',
      'net.ipv4.conf.all.arp_announce': '2',
      'net.ipv4.conf.eth0.arp_announce': '0',
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.eth0.rp_filter': '2',
      'net.ipv6.conf.lo.disable_ipv6': '0',
    },
  };
}

const problems = (facts: HostFacts, vips = [VIP4, VIP6]) =>
  checkRealServer(facts, vips)
    .filter((f) => f.level !== 'ok')
    .map((f) => `${f.level} ${f.check} ${f.subject}`);

test('a correctly set up host passes, and the kernel rule max(all, dev) is applied', (t) => {
  const findings = checkRealServer(goodHost(), [VIP4, VIP6]);
  t.false(hasErrors(findings));
  t.deepEqual(problems(goodHost()), []);
  t.deepEqual(planSetup(goodHost(), [VIP4, VIP6]), []);
});

test('a host that answers ARP for the VIP (arp_ignore=0 everywhere) is flagged, with the fix', (t) => {
  const h = goodHost();
  h.sysctl['net.ipv4.conf.all.arp_ignore'] = '0';
  const f = checkRealServer(h, [VIP4]).find((x) => x.check === 'arp-ignore')!;
  t.is(f.level, 'error');
  t.is(f.subject, 'eth0');
  t.regex(f.message, /eth0 answers ARP for addresses held on other interfaces.*all=0, eth0=0/);
  t.is(f.fix, 'sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1');
  t.deepEqual(planSetup(h, [VIP4]).map(describeAction), ['sysctl -w net.ipv4.conf.all.arp_ignore=1']);
});

test('the interface value alone is enough when it is the larger', (t) => {
  const h = goodHost();
  h.sysctl['net.ipv4.conf.all.arp_ignore'] = '0';
  h.sysctl['net.ipv4.conf.eth0.arp_ignore'] = '1';
  h.sysctl['net.ipv4.conf.all.arp_announce'] = '0';
  h.sysctl['net.ipv4.conf.eth0.arp_announce'] = '2';
  t.deepEqual(problems(h), []);
  t.deepEqual(planSetup(h, [VIP4]), []);
});

test('arp_announce below 2 is flagged', (t) => {
  const h = goodHost();
  h.sysctl['net.ipv4.conf.all.arp_announce'] = '1';
  t.deepEqual(problems(h), ['error arp-announce eth0']);
  t.deepEqual(planSetup(h, [VIP4]).map(describeAction), ['sysctl -w net.ipv4.conf.all.arp_announce=2']);
});

test('a missing VIP on lo is an error and setup adds it as a host route', (t) => {
  const h = goodHost();
  h.interfaces[0].addresses = h.interfaces[0].addresses.filter(
    (a) => a.address !== VIP4 && a.address !== VIP6,
  );
  t.deepEqual(problems(h), ['error vip-on-lo 198.18.0.200', 'error vip-on-lo 2001:2::200']);
  t.deepEqual(planSetup(h, [VIP4, VIP6]).map(describeAction), [
    'ip addr add 198.18.0.200/32 dev lo',
    'ip addr add 2001:2::200/128 dev lo',
  ]);
});

test('IPv6 spellings are compared canonically', (t) => {
  t.deepEqual(problems(goodHost(), ['2001:2:0:0::200']), []);
});

test('a VIP on lo with a wide prefix, or on eth0, is an error that setup does not "fix" by deleting', (t) => {
  const h = goodHost();
  h.interfaces[0].addresses[1].prefixLength = 24;
  h.interfaces[1].addresses.push({ address: VIP6, prefixLength: 64, family: 6 });
  const f = checkRealServer(h, [VIP4, VIP6]).filter((x) => x.level === 'error');
  t.deepEqual(
    f.map((x) => x.check),
    ['vip-prefix', 'vip-elsewhere'],
  );
  t.regex(f[0].message, /is on lo as \/24: lo then claims the whole prefix/);
  t.regex(f[1].message, /VIP 2001:2::200 is on eth0: this host answers neighbour solicitations for it/);
  t.is(f[1].fix, 'ip addr del 2001:2::200/64 dev eth0');
  t.deepEqual(planSetup(h, [VIP4, VIP6]), []);
});

test('strict rp_filter is a warning; setup makes the interface loose', (t) => {
  const h = goodHost();
  h.sysctl['net.ipv4.conf.all.rp_filter'] = '1';
  h.sysctl['net.ipv4.conf.eth0.rp_filter'] = '0';
  t.deepEqual(problems(h), ['warning rp-filter eth0']);
  t.false(hasErrors(checkRealServer(h, [VIP4])));
  t.deepEqual(planSetup(h, [VIP4]).map(describeAction), ['sysctl -w net.ipv4.conf.eth0.rp_filter=2']);
});

test('lo down and IPv6 disabled on lo are errors setup repairs; interfaces that are down are not checked', (t) => {
  const h = goodHost();
  h.interfaces[0].up = false;
  h.sysctl['net.ipv6.conf.lo.disable_ipv6'] = '1';
  t.deepEqual(problems(h), ['error lo-up lo', 'error ipv6-lo lo']);
  t.deepEqual(planSetup(h, [VIP4, VIP6]).map(describeAction), [
    'ip link set lo up',
    'sysctl -w net.ipv6.conf.lo.disable_ipv6=0',
  ]);
});

test('IPv6-only VIPs need no ARP sysctls', (t) => {
  const h = goodHost();
  h.sysctl['net.ipv4.conf.all.arp_ignore'] = '0';
  t.deepEqual(problems(h, [VIP6]), []);
});

test('VIP candidates are the global addresses on lo', (t) => {
  t.deepEqual(vipsOnLoopback(goodHost()), [VIP4, VIP6]);
});

test('ip -j addr output parsing and sysctl paths with dotted interface names', (t) => {
  const json = JSON.stringify([
    {
      ifname: 'lo',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      link_type: 'loopback',
      addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }],
    },
    {
      ifname: 'eth0',
      flags: ['BROADCAST'],
      addr_info: [{ family: 'inet6', local: 'fe80::1', prefixlen: 64 }],
    },
  ]);
  t.deepEqual(parseIpAddrJson(json), [
    {
      name: 'lo',
      up: true,
      loopback: true,
      addresses: [{ address: '127.0.0.1', prefixLength: 8, family: 4 }],
    },
    {
      name: 'eth0',
      up: false,
      loopback: false,
      addresses: [{ address: 'fe80::1', prefixLength: 64, family: 6 }],
    },
  ]);
  t.throws(() => parseIpAddrJson('nope'), { message: /did not print JSON/ });
  t.is(sysctlPath('net.ipv4.conf.eth0.100.arp_ignore'), '/proc/sys/net/ipv4/conf/eth0.100/arp_ignore');
  t.is(sysctlPath('net.ipv6.conf.lo.disable_ipv6'), '/proc/sys/net/ipv6/conf/lo/disable_ipv6');
});
