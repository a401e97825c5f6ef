/**
 * Property tests over random valid configs: load → serialize → load gives the same Config and
 * fingerprint; the fingerprint and the diff ignore orders that mean nothing.
 */
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { configFingerprint, diffConfig, serializeConfig } from '../../config/index.ts';
import { DEFAULT_FILES, parseOk } from './helpers.ts';

const PRIMES = [251, 1021, 4093, 65537];

const ipv4 = fc
  .tuple(fc.integer({ min: 18, max: 19 }), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .map(([b, c, d]) => `198.${b}.${c}.${d}`);
// 2001:2::/48, sometimes written with explicit zeros (canonicalised by the loader).
const ipv6 = fc
  .tuple(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffff }), fc.boolean())
  .map(([a, b, long]) =>
    long
      ? `2001:2:0:0:0:0:${a.toString(16)}:${b.toString(16)}`
      : `2001:2::${a.toString(16)}:${b.toString(16)}`,
  );
const address = (family: 4 | 6) => (family === 4 ? ipv4 : ipv6);
const canon = (a: string) => (a.includes(':') ? new URL(`http://[${a}]`).hostname.slice(1, -1) : a);
const uniqueAddresses = (family: 4 | 6, min: number, max: number) =>
  fc.uniqueArray(address(family), { minLength: min, maxLength: max, selector: canon });

const timing = fc
  .tuple(fc.integer({ min: 100, max: 10_000 }), fc.integer({ min: 10, max: 10_000 }))
  .map(([interval, timeout]) => ({ interval_ms: interval, timeout_ms: Math.min(timeout, interval) }));

const inlineCheck = fc.oneof(
  fc.record({ kind: fc.constant('tcp'), port: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({
    kind: fc.constantFrom('http', 'https'),
    port: fc.integer({ min: 1, max: 65535 }),
    path: fc.constantFrom('/', '/healthz'),
    expect_status: fc.constantFrom(200, '200-299', '200-399'),
  }),
  fc.record({
    kind: fc.constant('udp'),
    port: fc.integer({ min: 1, max: 65535 }),
    send: fc.string({ maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('dns'), query: fc.constantFrom('www.example.test', 'a.b.test.') }),
  fc.record({ kind: fc.constant('exec'), command: fc.constant(['/usr/bin/true']) }),
);
const check = fc
  .tuple(inlineCheck, timing, fc.integer({ min: 1, max: 5 }))
  .map(([c, t, rise]) => ({ ...c, ...t, rise }));

const service = (vips: string[], i: number) =>
  fc.constantFrom(...vips).chain((vip) => {
    const family = vip.includes(':') ? 6 : 4;
    return fc.record({
      name: fc.constant(`svc${i}`),
      vip: fc.constant(vip),
      protocol: fc.constantFrom('tcp', 'udp'),
      // Index-based ports keep (vip, protocol, port) unique.
      port: fc.constant(1000 + i),
      scheduler: fc.record({ table_size: fc.constantFrom(...PRIMES) }),
      persistence: fc.option(
        fc.record({
          timeout_s: fc.integer({ min: 1, max: 86_400 }),
          netmask_v4: fc.integer({ min: 0, max: 32 }),
          netmask_v6: fc.integer({ min: 0, max: 128 }),
        }),
        { nil: undefined },
      ),
      min_healthy: fc.constant(1),
      health_check: fc.option(fc.oneof(fc.constant('shared'), check), { nil: undefined }),
      real_servers: uniqueAddresses(family, 1, 6).chain((addrs) =>
        fc.tuple(
          ...addrs.map((a) =>
            fc.record({
              address: fc.constant(a),
              weight: fc.integer({ min: 0, max: 65535 }),
              health_check: fc.option(check, { nil: undefined }),
            }),
          ),
        ),
      ),
    });
  });

const rawConfig = fc
  .tuple(
    uniqueAddresses(4, 1, 4),
    uniqueAddresses(6, 0, 3),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 0, max: 2 }),
  )
  .chain(([v4, v6, groupCount, peerCount]) => {
    const all = [...v4, ...v6];
    const groups = Array.from({ length: Math.min(groupCount, all.length) }, (_, g) => ({
      name: `g${g}`,
      id: g + 1,
      vips: all.filter((_, k) => k % Math.min(groupCount, all.length) === g),
    }));
    return fc.record({
      node: fc.record({ id: fc.constant('lb1'), priority: fc.integer({ min: 1, max: 254 }) }),
      peers: fc.constant(
        Array.from({ length: peerCount }, (_, p) => ({ id: `peer${p}`, address: `198.18.0.${p + 20}` })),
      ),
      interfaces: fc.constant([{ name: 'eth0' }]),
      vip_groups: fc.tuple(
        ...groups.map((g) =>
          fc.record({
            name: fc.constant(g.name),
            id: fc.constant(g.id),
            vips: fc.constant(g.vips),
            advert_interval_ms: fc.integer({ min: 10, max: 40_950 }),
            preempt: fc.boolean(),
          }),
        ),
      ),
      health_checks: fc.constant([{ name: 'shared', kind: 'tcp', port: 80 }]),
      services: fc
        .integer({ min: 0, max: 4 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => service(all, i)))),
      timers: fc.record({
        tcp_established_s: fc.integer({ min: 1, max: 604_800 }),
        udp_s: fc.integer({ min: 1, max: 86_400 }),
      }),
      keys: fc.constant(peerCount > 0 ? { election: { keys: [{ id: 1, file: 'k1.key' }] } } : undefined),
      log: fc.record({ level: fc.constantFrom('debug', 'info', 'warn') }),
    });
  });

/** YAML text of a raw config, without the keys fast-check left undefined. */
const toYaml = (raw: unknown) => stringify(JSON.parse(JSON.stringify(raw)));

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test('random valid configs load, and serialize → load gives the same Config', (t) => {
  fc.assert(
    fc.property(rawConfig, (raw) => {
      const a = parseOk(toYaml(raw));
      const b = parseOk(serializeConfig(a, { includeInlineUrls: true }), DEFAULT_FILES);
      t.deepEqual(JSON.parse(JSON.stringify(b)), JSON.parse(JSON.stringify(a)));
      t.is(configFingerprint(b), configFingerprint(a));
      t.true(diffConfig(a, b).empty);
    }),
    { numRuns: 40 },
  );
});

test('the fingerprint ignores the order of real servers, VIPs, services and groups', (t) => {
  fc.assert(
    fc.property(rawConfig, fc.integer(), (raw, seed) => {
      const shuffled = {
        ...raw,
        vip_groups: shuffle(raw.vip_groups, seed).map((g) => ({ ...g, vips: shuffle(g.vips, seed + 1) })),
        services: shuffle(raw.services, seed + 2).map((s) => ({
          ...s,
          real_servers: shuffle(s.real_servers, seed + 3),
        })),
      };
      const a = parseOk(toYaml(raw));
      const b = parseOk(toYaml(shuffled));
      t.is(configFingerprint(b), configFingerprint(a));
      t.true(diffConfig(a, b).empty);
    }),
    { numRuns: 40 },
  );
});

test('the fingerprint changes when any one real-server weight changes', (t) => {
  fc.assert(
    fc.property(
      rawConfig.filter((r) => r.services.length > 0),
      fc.nat(),
      (raw, pick) => {
        const s = pick % raw.services.length;
        const r = pick % raw.services[s].real_servers.length;
        const services = raw.services.map((svc, i) =>
          i !== s
            ? svc
            : {
                ...svc,
                real_servers: svc.real_servers.map((rs, j) =>
                  j === r ? { ...rs, weight: (rs.weight + 1) % 65536 } : rs,
                ),
              },
        );
        const a = parseOk(toYaml(raw));
        const b = parseOk(toYaml({ ...raw, services }));
        t.not(configFingerprint(b), configFingerprint(a));
        t.is(diffConfig(a, b).services.changed[0]?.realServers.weight.length, 1);
      },
    ),
    { numRuns: 40 },
  );
});
