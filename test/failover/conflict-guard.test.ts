/**
 * A second owner of a VIP on the wire (issue 21): ARP claims parsed from frames (NA claims:
 * na-claim.test.ts), and the guard that answers one (a grace for planned moves, a rate limit, a
 * report). Pure, manual timers.
 */
import test from 'ava';
import { arpClaim } from '../../failover/vip/arp-claim.ts';
import { CONFLICT_GRACE_MS, ConflictGuard, REANNOUNCE_EVERY_MS } from '../../failover/vip/conflict-guard.ts';
import type { ConflictWatch, VipConflict } from '../../failover/vip/conflict-watch.ts';
import { gratuitousArp } from '../../failover/vip/frames.ts';
import type { VipTimers } from '../../failover/vip/vip-owner.ts';

const OTHER = '02:d5:00:00:09:09';

test('ARP requests and replies claim their sender address; probes and other frames claim nothing', (t) => {
  t.deepEqual(arpClaim(gratuitousArp(OTHER, '198.18.0.200', 'request')), {
    address: '198.18.0.200',
    mac: OTHER,
  });
  t.deepEqual(arpClaim(gratuitousArp(OTHER, '198.18.0.200', 'reply')), {
    address: '198.18.0.200',
    mac: OTHER,
  });
  const probe = gratuitousArp(OTHER, '198.18.0.200', 'request');
  probe.fill(0, 14 + 14, 14 + 18); // sender protocol address 0.0.0.0 (RFC 5227 probe)
  t.is(arpClaim(probe), null);
  const ipv4 = Buffer.from(gratuitousArp(OTHER, '198.18.0.200', 'request'));
  ipv4.writeUInt16BE(0x0800, 12);
  t.is(arpClaim(ipv4), null, 'not ARP');
  t.is(arpClaim(gratuitousArp(OTHER, '198.18.0.200', 'request').subarray(0, 30)), null, 'truncated');
});

class Timers implements VipTimers {
  now = 0;
  #due: { at: number; fn: () => void; id: number }[] = [];
  #id = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.#due.push({ at: this.now + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#due = this.#due.filter((d) => d.id !== h);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const d of this.#due.filter((x) => x.at <= this.now)) {
      this.#due = this.#due.filter((x) => x !== d);
      d.fn();
    }
  }
}

function setup() {
  const timers = new Timers();
  let claim: ((c: VipConflict) => void) | undefined;
  const watched: string[][] = [];
  let stopped = 0;
  const watch: ConflictWatch = {
    watch: (_ifindex, _mac, addresses, onConflict) => {
      watched.push([...addresses]);
      claim = onConflict;
    },
    stop: () => {
      stopped++;
    },
  };
  const guard = new ConflictGuard({ open: () => watch, timers, now: () => timers.now });
  const owner = {
    owning: true,
    reannounced: 0,
    owns: () => owner.owning,
    reannounce: () => owner.reannounced++,
  };
  const reports: VipConflict[] = [];
  guard.onConflict((r) => reports.push(r));
  guard.start(
    'web',
    [{ ifindex: 2, mac: '02:d5:00:00:00:01', addresses: ['198.18.0.200', '2001:2::200'] }],
    owner,
  );
  return {
    timers,
    guard,
    owner,
    reports,
    watched,
    claim: (c: VipConflict) => claim?.(c),
    stopped: () => stopped,
  };
}

test('a claim while we own the group: answered after the grace, at most once a second, reported', (t) => {
  const s = setup();
  t.deepEqual(s.watched, [['198.18.0.200', '2001:2::200']], 'both families watched');
  s.claim({ address: '198.18.0.200', mac: OTHER });
  s.claim({ address: '198.18.0.200', mac: OTHER });
  t.is(s.owner.reannounced, 0, 'not at once: a planned move may be under way');
  s.timers.advance(CONFLICT_GRACE_MS);
  t.is(s.owner.reannounced, 1);
  t.deepEqual(s.reports, [
    { group: 'web', address: '198.18.0.200', mac: OTHER, ownMac: '02:d5:00:00:00:01' },
  ]);
  s.claim({ address: '198.18.0.200', mac: OTHER });
  s.timers.advance(CONFLICT_GRACE_MS);
  t.is(s.owner.reannounced, 1, 'rate-limited');
  s.timers.advance(REANNOUNCE_EVERY_MS);
  s.claim({ address: '198.18.0.200', mac: OTHER });
  s.timers.advance(CONFLICT_GRACE_MS);
  t.is(s.owner.reannounced, 2);
  t.like(s.guard.status('web'), { conflicts: 4, last: { vip: '198.18.0.200', mac: OTHER } });
});

test('a claim as we step down (a peer taking over) is counted, never answered', (t) => {
  const s = setup();
  s.claim({ address: '198.18.0.200', mac: OTHER });
  s.owner.owning = false;
  s.timers.advance(CONFLICT_GRACE_MS);
  t.is(s.owner.reannounced, 0);
  t.deepEqual(s.reports, []);
  s.guard.stop('web');
  t.is(s.stopped(), 1);
  t.is(s.guard.status('web').conflicts, 1);
});

test('a claim of an IPv6 VIP (a Neighbor Advertisement from another MAC) is answered the same way', (t) => {
  const s = setup();
  s.claim({ address: '2001:2::200', mac: OTHER });
  s.timers.advance(CONFLICT_GRACE_MS);
  t.is(s.owner.reannounced, 1);
  t.deepEqual(s.reports, [{ group: 'web', address: '2001:2::200', mac: OTHER, ownMac: '02:d5:00:00:00:01' }]);
  t.like(s.guard.status('web'), { conflicts: 1, last: { vip: '2001:2::200', mac: OTHER } });
});
