import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { monotonicUsec, notifierFromEnv, watchdogIntervalMs } from '../../core/systemd/notify.ts';
import { sockaddrUn, UnixDgramReceiver } from '../../core/systemd/unix-dgram.ts';

/** Reads what is queued on the receiver (non-blocking); datagrams sent before are already there. */
function drain(rx: UnixDgramReceiver): string[] {
  const out: string[] = [];
  for (let m = rx.receive(); m !== undefined; m = rx.receive()) out.push(m);
  return out;
}

function withReceiver(path: string, body: (rx: UnixDgramReceiver) => void): void {
  const rx = new UnixDgramReceiver(path);
  try {
    body(rx);
  } finally {
    rx.close();
  }
}

test('sends READY, RELOADING with MONOTONIC_USEC, STATUS, WATCHDOG and STOPPING to an abstract socket', (t) => {
  const path = `@dsr-notify-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  withReceiver(path, (rx) => {
    const n = notifierFromEnv({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '4000000' }, 1234);
    t.true(n.enabled);
    t.is(n.watchdogIntervalMs, 2000);
    const before = monotonicUsec();
    n.ready('serving 2 services');
    n.reloading('reloading');
    n.ready();
    n.status('line one\nline two');
    n.watchdog();
    n.stopping();
    n.close();
    const after = monotonicUsec();
    const got = drain(rx);
    t.is(got.length, 6);
    t.is(got[0], 'READY=1\nSTATUS=serving 2 services');
    const [reloading, usecLine, status] = got[1].split('\n');
    t.is(reloading, 'RELOADING=1');
    const usec = BigInt(usecLine.replace('MONOTONIC_USEC=', ''));
    t.true(usec >= before && usec <= after, 'MONOTONIC_USEC is CLOCK_MONOTONIC now');
    t.is(status, 'STATUS=reloading');
    t.is(got[2], 'READY=1');
    t.is(got[3], 'STATUS=line one line two', 'a newline cannot end STATUS early');
    t.is(got[4], 'WATCHDOG=1');
    t.is(got[5], 'STOPPING=1');
  });
});

test('sends to a filesystem socket path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-notify-'));
  try {
    const path = join(dir, 'notify');
    withReceiver(path, (rx) => {
      const n = notifierFromEnv({ NOTIFY_SOCKET: path });
      n.ready();
      n.close();
      t.deepEqual(drain(rx), ['READY=1']);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no NOTIFY_SOCKET means a notifier that sends nothing', (t) => {
  const n = notifierFromEnv({});
  t.false(n.enabled);
  t.notThrows(() => {
    n.ready();
    n.watchdog();
    n.close();
  });
});

test('a socket nobody listens on counts failures instead of throwing', (t) => {
  const n = notifierFromEnv({ NOTIFY_SOCKET: `@dsr-notify-nobody-${process.pid}` });
  t.notThrows(() => n.ready());
  t.is((n as unknown as { failures: number }).failures, 1);
  n.close();
});

test('watchdog period is half WATCHDOG_USEC, and only for the PID named in WATCHDOG_PID', (t) => {
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 7), 15000);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 7), 15000);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7), undefined);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 7), undefined);
  t.is(watchdogIntervalMs({}, 7), undefined);
});

test('sockaddr_un: abstract names start with NUL and carry no trailing NUL; paths do', (t) => {
  const a = sockaddrUn('@ab');
  t.deepEqual([...a], [1, 0, 0, 0x61, 0x62]);
  const p = sockaddrUn('/x');
  t.deepEqual([...p], [1, 0, 0x2f, 0x78, 0]);
  t.throws(() => sockaddrUn(`/${'x'.repeat(107)}`), { message: /longer than 107/ });
  t.throws(() => sockaddrUn('@'), { message: /empty/ });
});
