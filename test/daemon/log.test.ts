import { Writable } from 'node:stream';
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { LogRoot } from '../../core/log.ts';
import { stdoutIsJournal, withPriority } from '../../core/systemd/journal.ts';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, stream };
}

test('level changes at runtime reach children and grandchildren made before the change', (t) => {
  const { lines, stream } = capture();
  const root = new LogRoot({ level: 'info', destination: stream, base: { node: 'dir-a' } });
  const part = root.child({ part: 'election' });
  const sub = part.child({ group: 'g1' });
  sub.debug('hidden');
  t.is(root.setLevel('debug'), 'debug');
  sub.debug('shown');
  part.debug('shown too');
  const later = root.child({ part: 'later' });
  later.debug('later shown');
  t.deepEqual(
    lines.map((l) => l.msg),
    ['shown', 'shown too', 'later shown'],
  );
  t.is(lines[0].level, 'debug');
  t.is(lines[0].node, 'dir-a');
  t.is(lines[0].group, 'g1');
  root.setLevel('warn');
  sub.info('hidden again');
  t.is(lines.length, 3);
});

test('an unknown level is refused with a clear error and changes nothing', (t) => {
  const { stream } = capture();
  const root = new LogRoot({ level: 'info', destination: stream });
  const err = t.throws(() => root.setLevel('verbose'));
  t.true(isDsrError(err, 'E_ADMIN_REQUEST'));
  t.regex(err.message, /fatal, error, warn, info, debug, trace, silent/);
  t.is(root.level, 'info');
});

test('secret-looking fields are redacted, one level deep and at the top', (t) => {
  const { lines, stream } = capture();
  const root = new LogRoot({ level: 'info', destination: stream });
  root.logger.info(
    { key: 'k1', target: { secret: 's1', url: 'https://x' }, headers: { authorization: 'Bearer y' } },
    'm',
  );
  const line = JSON.stringify(lines[0]);
  t.false(line.includes('k1'));
  t.false(line.includes('s1'));
  t.false(line.includes('Bearer'));
  t.true(line.includes('https://x'));
});

test('for journald each line carries the syslog priority of its level; elsewhere plain JSON', (t) => {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l !== '') raw.push(l);
      done();
    },
  });
  const root = new LogRoot({ level: 'debug', destination: stream, journal: true });
  const log = root.child({ part: 'p' });
  log.fatal('f');
  log.error('e');
  log.warn('w');
  log.info('i');
  log.debug('d');
  t.deepEqual(
    raw.map((l) => /^<(\d)>\{/.exec(l)?.[1]),
    ['2', '3', '4', '6', '7'],
  );
  t.is(JSON.parse(raw[1].slice(3)).msg, 'e', 'the rest of the line is the JSON record');

  const plain: string[] = [];
  const root2 = new LogRoot({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        plain.push(String(chunk));
        done();
      },
    }),
  });
  root2.logger.error('e');
  t.regex(plain[0], /^\{"level":"error"/);
});

test('stdout is the journal only when JOURNAL_STREAM names its device and inode', (t) => {
  const stat = () => ({ dev: 64769, ino: 123456 });
  t.true(stdoutIsJournal({ JOURNAL_STREAM: '64769:123456' }, stat));
  t.false(
    stdoutIsJournal({ JOURNAL_STREAM: '64769:999' }, stat),
    'redirected elsewhere by the unit or a shell',
  );
  t.false(stdoutIsJournal({}, stat), 'not run by systemd');
  t.false(
    stdoutIsJournal({ JOURNAL_STREAM: '1:2' }, () => {
      throw new Error('EBADF');
    }),
  );
  t.is(withPriority('not json'), 'not json');
});
