/**
 * `dsrctl pair init` / `pair join` (issue 25): both configs and the key written at once, each
 * director's part installed from its bundle; both check as dsrd --check does with one fingerprint;
 * keys and bundles private; bad answers and hostile bundles refused with nothing written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { encodeBundle } from '../../cli/pair/bundle.ts';
import { directorConfig, type PairAnswers, pairConfigs } from '../../cli/pair/plan.ts';
import { dsrctl, dsrd } from '../../lab/binaries.ts';

const ANSWERS: PairAnswers = {
  directors: [
    { name: 'lb1', address: '198.18.0.11' },
    { name: 'lb2', address: '198.18.0.12' },
  ],
  interface: 'eth0',
  group: { name: 'web', id: 7 },
  vips: ['198.18.100.10', '2001:2:0:100::10'],
  services: [
    { name: 'http', protocol: 'tcp', port: 80 },
    { name: 'dns6', protocol: 'udp', port: 53, vip: '2001:2:0:100::10' },
  ],
  realServers: ['198.18.200.1', '198.18.200.2', '2001:2:0:200::1'],
};

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-pair-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fingerprintOf = (checkOutput: string) => /fingerprint ([0-9a-f]{16})/.exec(checkOutput)?.[1];

test('the two configs differ only in who is who: node, peer, priority', (t) => {
  const [a, b] = [directorConfig(ANSWERS, 0), directorConfig(ANSWERS, 1)];
  t.is(a.node.priority, 150, 'the first named is the preferred master');
  t.is(b.node.priority, 100);
  t.deepEqual(a.peers, [{ id: 'lb2', address: '198.18.0.12' }]);
  const { node: _a, peers: _pa, ...restA } = a;
  const { node: _b, peers: _pb, ...restB } = b;
  t.deepEqual(restA, restB);
  // Each service takes the real servers of its VIP's family.
  t.deepEqual(
    a.services?.map((s) => [s.name, s.vip, s.real_servers?.map((r) => r.address)]),
    [
      ['http', '198.18.100.10', ['198.18.200.1', '198.18.200.2']],
      ['dns6', '2001:2:0:100::10', ['2001:2:0:200::1']],
    ],
  );
  t.is(pairConfigs(ANSWERS).size, 2);
});

test('answers an operator gets wrong are refused by name', (t) => {
  const wrong: [Partial<PairAnswers>, RegExp][] = [
    [{ directors: [ANSWERS.directors[0]] }, /a pair is two directors/],
    [{ directors: [ANSWERS.directors[0], { name: 'lb1', address: '198.18.0.13' }] }, /different names/],
    [{ directors: [ANSWERS.directors[0], { name: 'lb2', address: 'lb2.example' }] }, /not an IP address/],
    [{ vips: [] }, /at least one --vip/],
    [{ vips: ['198.18.100.10/32'] }, /not an IP address/],
    [{ services: [{ name: 'x', protocol: 'tcp', port: 70000 }] }, /port 1..65535/],
    [{ services: [{ name: 'x', protocol: 'tcp', port: 80, vip: '198.18.9.9' }] }, /not one of the --vip/],
    [{ realServers: [] }, /at least one --real/],
    [{ group: { name: 'web', id: 300 } }, /1..255/],
  ];
  for (const [over, message] of wrong) {
    t.throws(() => pairConfigs({ ...ANSWERS, ...over }), { message }, JSON.stringify(over));
  }
});

test('pair init, then pair join on each director: private keys, one fingerprint, checked configs', async (t) => {
  const dir = scratch(t);
  const out = join(dir, 'pair');
  const init = await dsrctl([
    'pair',
    'init',
    '--director',
    'lb1=198.18.0.11',
    '--director',
    'lb2=198.18.0.12',
    '--vip',
    '198.18.100.10',
    '--service',
    'http:tcp:80',
    '--real',
    '198.18.200.1',
    '--real',
    '198.18.200.2',
    '--out',
    out,
  ]);
  t.is(init.code, 0, init.stderr);
  const printed = /fingerprint ([0-9a-f]{64}) on both/.exec(init.stdout)?.[1];
  t.truthy(printed, init.stdout);
  for (const f of ['lb1.bundle', 'lb2.bundle', 'lb1/keys/election-1.key', 'lb2/keys/election-1.key']) {
    t.is(statSync(join(out, f)).mode & 0o777, 0o600, `${f} is private`);
  }
  t.deepEqual(
    readFileSync(join(out, 'lb1/keys/election-1.key')),
    readFileSync(join(out, 'lb2/keys/election-1.key')),
  );
  t.is(readFileSync(join(out, 'lb1/keys/election-1.key')).length, 32);

  // Each director installs its part; dsrd --check passes on both with the same fingerprint.
  const seen: string[] = [];
  for (const name of ['lb1', 'lb2']) {
    const etc = join(dir, `etc-${name}`);
    const join1 = await dsrctl(['pair', 'join', join(out, `${name}.bundle`), '--etc', etc]);
    t.is(join1.code, 0, join1.stderr);
    t.regex(join1.stdout, new RegExp(`node ${name}, 1 peer`));
    const check = await dsrd(['--check', '--config', join(etc, 'dsrd.yaml')]);
    t.is(check.code, 0, check.stdout + check.stderr);
    seen.push(fingerprintOf(check.stdout) ?? 'none');
    t.is(statSync(join(etc, 'keys/election-1.key')).mode & 0o777, 0o600);
    // Not twice without --force: an installed config is the operator's.
    const again = await dsrctl(['pair', 'join', join(out, `${name}.bundle`), '--etc', etc]);
    t.is(again.code, 2);
    t.regex(again.stderr, /exists; add --force/);
    t.is((await dsrctl(['pair', 'join', join(out, `${name}.bundle`), '--etc', etc, '--force'])).code, 0);
  }
  t.is(seen[0], seen[1]);
  t.is(seen[0], (printed ?? '').slice(0, 16));

  // init refuses to write over a directory that holds something.
  const twice = await dsrctl(['pair', 'init', '--director', 'a=198.18.0.1', '--out', out]);
  t.is(twice.code, 2);
});

test('an answers file does what the flags do', async (t) => {
  const dir = scratch(t);
  const answers = join(dir, 'answers.yaml');
  writeFileSync(
    answers,
    `directors:\n  - { name: lb1, address: 198.18.0.11 }\n  - { name: lb2, address: 198.18.0.12 }\ngroup: edge\ngroup_id: 9\nvips: [198.18.100.10]\nservices: ["http:tcp:80", "dns:udp:53"]\nreal_servers: [198.18.200.1]\n`,
  );
  const r = await dsrctl(['pair', 'init', '--answers', answers, '--out', join(dir, 'p')]);
  t.is(r.code, 0, r.stderr);
  const text = readFileSync(join(dir, 'p/lb2/dsrd.yaml'), 'utf8');
  t.regex(text, /name: edge\n\s+id: 9/);
  t.regex(text, /name: dns\n\s+vip: 198\.18\.100\.10\n\s+protocol: udp/);
});

test('a bundle that would write outside the config directory, or is not a bundle, writes nothing', async (t) => {
  const dir = scratch(t);
  const cases = [
    encodeBundle({ node: 'x', config: 'node: {}\n', files: { '../escape': Buffer.from('k') } }),
    encodeBundle({ node: 'x', config: 'node: {}\n', files: { '/etc/shadow': Buffer.from('k') } }),
    '{"format":"something-else"}',
    'not json',
  ];
  for (const [i, text] of cases.entries()) {
    const path = join(dir, `b${i}`);
    writeFileSync(path, text);
    const etc = join(dir, `etc${i}`);
    const r = await dsrctl(['pair', 'join', path, '--etc', etc]);
    t.is(r.code, 2, r.stdout);
    t.regex(r.stderr, /not a dsr-director pair bundle/);
    t.false(existsSync(etc), 'nothing written');
    t.false(existsSync(join(dir, 'escape')));
  }
});
