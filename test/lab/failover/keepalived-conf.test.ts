import test from 'ava';
import { advertIntText, keepalivedConf, vrrpMasterDownMs } from '../../../lab/failover/keepalived-conf.ts';
import { gatedDsrRuleset } from '../../../lab/failover/nft-gated-dsr.ts';

test('advert intervals are written as keepalived reads them (VRRPv3 centiseconds)', (t) => {
  t.is(advertIntText(1000), '1');
  t.is(advertIntText(100), '0.1');
  t.is(advertIntText(30), '0.03');
  t.is(advertIntText(1500), '1.5');
  t.is(advertIntText(1050), '1.05');
  t.is(advertIntText(40950), '40.95');
  t.is(advertIntText(10), '0.01');
});

test('advert intervals VRRPv3 cannot carry are refused', (t) => {
  for (const bad of [0, 5, 15, 99.5, 40960, -100]) {
    t.throws(() => advertIntText(bad), { message: /E_BENCH/ }, String(bad));
  }
});

test('master-down interval follows RFC 5798 §6.1 (3 intervals + skew)', (t) => {
  // keepalived's own man page: advert 1 s, priority 128 → about 3.5 s.
  t.is(vrrpMasterDownMs(1000, 128), 3500);
  t.is(vrrpMasterDownMs(100, 100), 300 + (156 * 100) / 256);
});

test('the config is VRRPv3, unicast to every peer, nopreempt, with the VIP on the interface', (t) => {
  const conf = keepalivedConf({
    self: { name: 'd1', address: '198.18.0.2', priority: 150 },
    peers: [
      { name: 'd2', address: '198.18.0.3', priority: 100 },
      { name: 'd3', address: '198.18.0.4', priority: 90 },
    ],
    vip: '198.18.0.200',
    advertMs: 100,
  });
  const lines = conf.split('\n').map((l) => l.trim());
  for (const expected of [
    'vrrp_version 3',
    'state BACKUP',
    'nopreempt',
    'interface eth0',
    'priority 150',
    'advert_int 0.1',
    'unicast_src_ip 198.18.0.2',
    '198.18.0.3',
    '198.18.0.4',
    '198.18.0.200/32 dev eth0',
  ]) {
    t.true(lines.includes(expected), expected);
  }
  t.false(/notify|script/.test(conf), 'nothing runs outside keepalived');
  // Balanced braces: keepalived silently ignores a truncated block.
  t.is((conf.match(/{/g) ?? []).length, (conf.match(/}/g) ?? []).length);
});

test('a config without peers or with an out-of-range priority is refused', (t) => {
  const base = { vip: '198.18.0.200', advertMs: 100 };
  t.throws(() =>
    keepalivedConf({ ...base, self: { name: 'd1', address: '198.18.0.2', priority: 150 }, peers: [] }),
  );
  t.throws(() =>
    keepalivedConf({
      ...base,
      self: { name: 'd1', address: '198.18.0.2', priority: 255 },
      peers: [{ name: 'd2', address: '198.18.0.3', priority: 1 }],
    }),
  );
});

test('the nftables DSR rule only forwards frames addressed to this director for a VIP it holds', (t) => {
  const rules = gatedDsrRuleset({
    director: { ifname: 'eth0', mac: '02:d5:00:00:01:00' },
    reals: [{ mac: '02:d5:00:00:03:00' }, { mac: '02:d5:00:00:03:01' }],
    vip: '198.18.0.200',
    port: 7001,
  });
  t.regex(rules, /type filter hook ingress device "eth0"/);
  t.regex(
    rules,
    /ether daddr 02:d5:00:00:01:00 ip daddr 198\.18\.0\.200 udp dport 7001 fib daddr type local /,
  );
  t.regex(
    rules,
    /jhash ip saddr \. udp sport mod 2 seed 0x[0-9a-f]+ map \{ 0 : 02:d5:00:00:03:00, 1 : 02:d5:00:00:03:01 \}/,
  );
  t.regex(rules, /fwd to "eth0"/);
});
