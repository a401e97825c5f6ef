/** loadConfig and checkConfigFile against real files, and the shipped example. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type ConfigIssue, checkConfigFile, loadConfig } from '../../config/index.ts';
import { isDsrError } from '../../core/errors.ts';
import { fakeFiles, KEY_BYTES, MINIMAL, yaml } from './helpers.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-config-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const WITH_PEER = (keyFile: string) =>
  yaml(
    MINIMAL.trimEnd(),
    'peers: [{id: lb2, address: 198.18.0.12}]',
    'keys:',
    '  election:',
    `    keys: [{id: 7, file: ${keyFile}}]`,
  );

test('loads a valid file; relative key paths resolve against the config directory', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'keys'));
  writeFileSync(join(dir, 'keys', 'e.key'), Buffer.concat([KEY_BYTES, Buffer.from('\n')]), { mode: 0o600 });
  writeFileSync(join(dir, 'dsrd.yaml'), WITH_PEER('keys/e.key'));
  const config = await loadConfig(join(dir, 'dsrd.yaml'));
  const key = config.keys.election?.keys[0];
  t.is(key?.id, 7);
  t.is(key?.file, join(dir, 'keys', 'e.key'));
  // The final newline is not part of the key.
  t.deepEqual(key?.secret.bytes(), KEY_BYTES);
});

test('a missing config file is E_CONFIG_READ with one issue', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'nope.yaml');
  const err = await t.throwsAsync(loadConfig(file));
  t.true(isDsrError(err, 'E_CONFIG_READ'));
  const issues = (err as unknown as { context: { errors: ConfigIssue[] } }).context.errors;
  t.is(issues.length, 1);
  t.is(issues[0].file, file);
  t.regex(issues[0].message, /ENOENT/);
});

test('an invalid file throws E_CONFIG_INVALID whose message lists every issue', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'dsrd.yaml');
  writeFileSync(file, yaml('node: {id: lb1, priority: 300}', 'interfaces: [{name: eth0}]', 'vip_groups: []'));
  const err = await t.throwsAsync(loadConfig(file));
  t.true(isDsrError(err, 'E_CONFIG_INVALID'));
  t.is(
    err?.message,
    [
      `E_CONFIG_INVALID: ${file}: 2 errors in the config`,
      `${file}:1:27: node.priority: expected an integer from 1 to 254, found 300`,
      `${file}:3:1: vip_groups: expected at least one VIP group, found an empty list`,
    ].join('\n'),
  );
});

test('real key files: missing, a directory, and world-readable are each reported', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'open.key'), KEY_BYTES);
  chmodSync(join(dir, 'open.key'), 0o644);
  mkdirSync(join(dir, 'adir'));
  const file = join(dir, 'dsrd.yaml');
  writeFileSync(
    file,
    yaml(
      MINIMAL.trimEnd(),
      'keys:',
      '  election: {send_id: 1, keys: [{id: 1, file: missing.key}, {id: 2, file: adir}]}',
      '  sync: {keys: [{id: 1, file: open.key}]}',
    ),
  );
  const result = await checkConfigFile(file);
  t.false(result.ok);
  t.is(result.summary, `${file}: 3 errors (E_CONFIG_READ)`);
  t.deepEqual(
    result.lines.map((l) => l.replace(file, 'F').replaceAll(dir, 'D')),
    [
      "F:10:47: keys.election.keys[0].file: cannot read key file D/missing.key: ENOENT: no such file or directory, stat 'D/missing.key'",
      'F:10:75: keys.election.keys[1].file: cannot read key file D/adir: not a regular file',
      'F:11:31: keys.sync.keys[0].file: key file D/open.key is readable by every user (mode 0644); chmod 0600 or 0640',
    ],
  );
});

test('checkConfigFile on a valid file: ok, summary and fingerprint', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'dsrd.yaml');
  writeFileSync(file, MINIMAL);
  const result = await checkConfigFile(file);
  t.true(result.ok);
  t.deepEqual(result.issues, []);
  t.regex(result.fingerprint ?? '', /^[0-9a-f]{64}$/);
  t.is(
    result.summary,
    `${file}: configuration is valid: node lb1, 0 peers, 1 VIP group (1 VIP), 0 services (0 real servers), fingerprint ${result.fingerprint?.slice(0, 16)}`,
  );
});

test('the shipped example validates', async (t) => {
  const files = fakeFiles({
    '/etc/dsr-director/keys/election-1.key': { bytes: KEY_BYTES },
    '/etc/dsr-director/keys/webhook.secret': { bytes: `whsec_${Buffer.alloc(32, 1).toString('base64')}` },
    '/usr/local/lib/dsr-director/check-router': { bytes: '#!/bin/sh\n', mode: 0o755 },
  });
  const example = new URL('../../config/examples/dsrd.yaml', import.meta.url).pathname;
  const result = await checkConfigFile(example, { files });
  t.deepEqual(result.lines, []);
  t.true(result.ok);
  const c = result.config;
  t.is(c?.services.length, 3);
  // Every address in the example is a lab address (198.18.0.0/15 or 2001:2::/48).
  const addresses = [
    ...(c?.peers.map((p) => p.address) ?? []),
    ...(c?.vipGroups.flatMap((g) => g.vips) ?? []),
    ...(c?.services.flatMap((s) => [s.vip, ...s.realServers.map((r) => r.address), s.sorryServer ?? s.vip]) ??
      []),
  ];
  for (const a of addresses) t.regex(a, /^(198\.(18|19)\.|2001:2:0?:)/, a);
  // The generic target's secret was decoded from whsec_ form.
  t.deepEqual(c?.alerts.targets[0].secret?.bytes(), Buffer.alloc(32, 1));
});
