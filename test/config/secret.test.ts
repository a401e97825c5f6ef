/** Secrets never show: not in JSON, inspect, string conversion or a pino log line of the config. */
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import test from 'ava';
import pino from 'pino';
import { Secret } from '../../config/index.ts';
import { fakeFiles, MINIMAL, parseOk, yaml } from './helpers.ts';

const KEY_TEXT = 'correct-horse-battery-staple-0123456789';
const HOOK = 'https://198.18.0.60/services/T000/B000/XXXXXXXXSECRETPATH';

function configWithSecrets() {
  const files = fakeFiles({
    '/etc/dsr/e.key': { bytes: KEY_TEXT },
    '/etc/dsr/hook.url': { bytes: `${HOOK}\n` },
    '/etc/dsr/sign.secret': { bytes: KEY_TEXT },
  });
  return parseOk(
    yaml(
      MINIMAL.trimEnd(),
      'keys: {election: {keys: [{id: 1, file: e.key}]}}',
      'alerts:',
      '  targets:',
      '    - {name: chat, kind: slack, url_file: hook.url}',
      `    - {name: hook, kind: generic, url: "${HOOK}", secret_file: sign.secret}`,
    ),
    files,
  );
}

function leaks(text: string): boolean {
  return (
    text.includes(KEY_TEXT) ||
    text.includes('SECRETPATH') ||
    text.includes(Buffer.from(KEY_TEXT).toString('hex'))
  );
}

test('JSON, inspect and template strings of the config show no secret', (t) => {
  const c = configWithSecrets();
  t.false(leaks(JSON.stringify(c)));
  t.false(leaks(inspect(c, { depth: Number.POSITIVE_INFINITY })));
  t.false(leaks(`${c.keys.election?.keys[0].secret}`));
  t.is(JSON.stringify(c.alerts.targets[0].url), '"[redacted https://198.18.0.60]"');
  t.is(inspect(c.keys.election?.keys[0].secret), 'Secret([redacted])');
  // ...while the daemon can still use them.
  t.is(c.keys.election?.keys[0].secret.text(), KEY_TEXT);
  t.is(c.alerts.targets[0].url.text(), HOOK);
  t.is(c.alerts.targets[1].url.text(), HOOK);
});

test('a pino log line of the whole config shows no secret', (t) => {
  const c = configWithSecrets();
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  pino({}, sink).info({ config: c }, 'loaded');
  t.true(out.includes('"loaded"'));
  t.false(leaks(out));
});

test('Secret: copies on the way in and out, constant-time equality', (t) => {
  const raw = Buffer.from('abc');
  const s = new Secret(raw);
  raw[0] = 0x7a;
  t.is(s.text(), 'abc');
  s.bytes()[0] = 0x7a;
  t.is(s.text(), 'abc');
  t.true(s.equals(Secret.fromText('abc')));
  t.false(s.equals(Secret.fromText('abd')));
  t.false(s.equals(Secret.fromText('abcd')));
  t.is(s.length, 3);
});
