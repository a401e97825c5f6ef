/**
 * VIP ownership over the in-memory fakes and a manual clock: what is added, announced (when, how
 * often) and removed on takeover, release, flaps, failures and restart leftovers.
 */
import test from 'ava';
import { DsrError } from '../../core/errors.ts';
import { FakeAddressManager } from '../../core/netlink/fake-address-manager.ts';
import { FakeLinkMonitor, fakeLink } from '../../core/netlink/fake-link-monitor.ts';
import { FakeAnnouncer } from '../../failover/vip/fake-announcer.ts';
import { VipOwner, type VipOwnerOptions, type VipTimers } from '../../failover/vip/vip-owner.ts';

class ManualTimers implements VipTimers {
  now = 0;
  #next = 1;
  #due = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }
  get pending(): number {
    return this.#due.size;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#due)
        if (e[1].at <= end && (first === undefined || e[1].at < first[1].at)) first = e;
      if (first === undefined) break;
      this.#due.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = end;
  }
}

const MAC1 = '02:d5:00:00:00:01';
const MAC2 = '02:d5:00:00:00:02';

function setup(extra: Partial<VipOwnerOptions> = {}) {
  const addresses = new FakeAddressManager([1, 2]);
  const announcer = new FakeAnnouncer();
  const links = new FakeLinkMonitor([fakeLink(1, 'eth0', MAC1), fakeLink(2, 'eth1', MAC2)]);
  const timers = new ManualTimers();
  const owner = new VipOwner({
    group: 'web',
    vips: [
      { address: '198.18.0.200', prefixLength: 32, ifindex: 1 },
      { address: '2001:2:0:0::200', prefixLength: 128, ifindex: 1 },
    ],
    addresses,
    announcer,
    links,
    timers,
    announce: { count: 3, intervalMs: 100, refreshMs: 10_000 },
    ...extra,
  });
  return { addresses, announcer, links, timers, owner };
}

test('takeOver adds the VIPs, then a burst of count rounds intervalMs apart, then refresh rounds', async (t) => {
  const { addresses, announcer, timers, owner } = setup();
  const r = await owner.takeOver();
  t.true(r.ok);
  t.deepEqual(r.changed, ['198.18.0.200/32', '2001:2::200/128']);
  t.deepEqual(addresses.current(1), ['198.18.0.200/32', '2001:2::200/128']);
  t.is((await addresses.list(1))[1].flags & 0x02, 0x02, 'IPv6 VIP added with IFA_F_NODAD');
  t.is(announcer.rounds.length, 1, 'the first round goes out at once');
  t.deepEqual(announcer.rounds[0], {
    ifindex: 1,
    mac: MAC1,
    addresses: ['198.18.0.200', '2001:2::200'],
    frames: announcer.rounds[0].frames,
  });
  t.is(announcer.rounds[0].frames.length, 3, 'ARP request + reply, one NA');
  timers.advance(99);
  t.is(announcer.rounds.length, 1);
  timers.advance(1);
  t.is(announcer.rounds.length, 2);
  timers.advance(100);
  t.is(announcer.rounds.length, 3, 'burst of 3 done');
  timers.advance(9_999);
  t.is(announcer.rounds.length, 3);
  timers.advance(1);
  t.is(announcer.rounds.length, 4, 'refresh');
  timers.advance(20_000);
  t.is(announcer.rounds.length, 6);
  const s = owner.status();
  t.true(s.owner);
  t.is(s.rounds, 6);
  t.is(s.framesSent, 18);
  t.is(s.framesFailed, 0);
});

test('release stops announcing at once and removes the VIPs; both calls are idempotent', async (t) => {
  const { addresses, announcer, timers, owner } = setup();
  await owner.takeOver();
  const again = await owner.takeOver();
  t.deepEqual(again.changed, [], 'already present: nothing changed, still ok');
  t.true(again.ok);
  const r = await owner.release();
  t.deepEqual(r.changed, ['198.18.0.200/32', '2001:2::200/128']);
  t.deepEqual(addresses.current(1), []);
  const rounds = announcer.rounds.length;
  timers.advance(60_000);
  t.is(announcer.rounds.length, rounds);
  t.is(timers.pending, 0);
  t.deepEqual((await owner.release()).changed, []);
  t.false(owner.status().owner);
});

test('a release issued while the takeover is still adding wins: no announcement, no VIP left', async (t) => {
  const { addresses, announcer, owner } = setup();
  let open!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const inAdd = new Promise<void>((r) => {
    entered = r;
  });
  const add = addresses.add.bind(addresses);
  addresses.add = async (...args) => {
    entered();
    await gate;
    return add(...args);
  };
  const taking = owner.takeOver();
  await inAdd;
  const releasing = owner.release();
  open();
  const [tk, rl] = await Promise.all([taking, releasing]);
  t.true(tk.superseded);
  t.is(announcer.rounds.length, 0);
  t.deepEqual(rl.changed.length, 2);
  t.deepEqual(addresses.current(1), []);
  t.false(owner.status().owner);
});

test('flap: takeOver, release, takeOver in a row ends as owner with the VIPs announced', async (t) => {
  const { addresses, announcer, owner } = setup();
  const results = await Promise.all([owner.takeOver(), owner.release(), owner.takeOver()]);
  t.true(results[0].superseded);
  t.true(results[1].superseded);
  t.falsy(results[2].superseded);
  t.deepEqual(addresses.current(1), ['198.18.0.200/32', '2001:2::200/128']);
  t.is(announcer.rounds.length, 1);
  t.true(owner.status().owner);
});

test('removeLeftovers removes the group VIPs a crashed run left (any prefix) and nothing else', async (t) => {
  const { addresses, owner } = setup();
  addresses.preset(1, '198.18.0.200', 24);
  addresses.preset(1, '2001:2::200', 128);
  addresses.preset(1, '198.18.0.2', 24);
  const r = await owner.removeLeftovers();
  t.true(r.ok);
  t.deepEqual(r.changed, ['198.18.0.200/24', '2001:2::200/128']);
  t.deepEqual(addresses.current(1), ['198.18.0.2/24']);
  t.deepEqual((await owner.removeLeftovers()).changed, []);
});

test('a failed add is reported, the other VIPs are still held and announced', async (t) => {
  const { addresses, announcer, owner } = setup();
  addresses.failNext('add', new DsrError('E_NETLINK', 'add failed with EACCES', { errno: 13 }));
  const r = await owner.takeOver();
  t.false(r.ok);
  t.deepEqual(r.errors, [
    { op: 'add', vip: '198.18.0.200/32', message: 'E_NETLINK: add failed with EACCES' },
  ]);
  t.deepEqual(owner.status().held, ['2001:2::200/128']);
  t.deepEqual(announcer.rounds[0].addresses, ['2001:2::200']);
  t.deepEqual(owner.status().lastErrors, r.errors);
});

test('a VIP on a missing interface fails its add; announcing failures are counted, not thrown', async (t) => {
  const { announcer, owner } = setup({ vips: [{ address: '198.18.0.201', prefixLength: 32, ifindex: 9 }] });
  const r = await owner.takeOver();
  t.false(r.ok);
  t.regex(r.errors[0].message, /ENODEV/);
  t.is(announcer.rounds.length, 0);

  const s2 = setup();
  s2.announcer.failWith = 'ENETDOWN';
  await s2.owner.takeOver();
  const st = s2.owner.status();
  t.is(st.framesFailed, 3);
  t.is(st.lastAnnounceError, 'ENETDOWN');
});

test('VIPs on two interfaces are announced on each with that interface MAC', async (t) => {
  const { announcer, owner } = setup({
    vips: [
      { address: '198.18.0.200', prefixLength: 32, ifindex: 1 },
      { address: '198.18.1.200', prefixLength: 32, ifindex: 2 },
    ],
  });
  await owner.takeOver();
  t.deepEqual(
    announcer.rounds.map((r) => [r.ifindex, r.mac, r.addresses]),
    [
      [1, MAC1, ['198.18.0.200']],
      [2, MAC2, ['198.18.1.200']],
    ],
  );
});

test('carrier back on a VIP interface starts a new burst; reannounce() does too; neither when backup', async (t) => {
  const { announcer, links, timers, owner } = setup();
  links.setCarrier(1, false);
  links.setCarrier(1, true);
  t.is(announcer.rounds.length, 0, 'not master: nothing');
  await owner.takeOver();
  timers.advance(1000);
  t.is(announcer.rounds.length, 3);
  links.setCarrier(1, false);
  t.is(announcer.rounds.length, 3);
  links.setCarrier(1, true);
  t.is(announcer.rounds.length, 4);
  timers.advance(200);
  t.is(announcer.rounds.length, 6);
  owner.reannounce();
  t.is(announcer.rounds.length, 7);
  await owner.release();
  owner.reannounce();
  links.setCarrier(1, false);
  links.setCarrier(1, true);
  t.is(announcer.rounds.length, 7);
});

test('refreshMs 0: the burst only; close() stops timers and leaves addresses alone', async (t) => {
  const { addresses, announcer, timers, owner } = setup({
    announce: { count: 2, intervalMs: 50, refreshMs: 0 },
  });
  await owner.takeOver();
  timers.advance(100_000);
  t.is(announcer.rounds.length, 2);
  t.is(timers.pending, 0);
  owner.reannounce();
  owner.close();
  timers.advance(100_000);
  t.is(announcer.rounds.length, 3);
  t.is(addresses.current(1).length, 2);
});

test('handOff: quiet at once, the VIPs stay for the grace and then go; a takeOver meanwhile keeps them', async (t) => {
  const { addresses, announcer, timers, owner } = setup();
  await owner.takeOver();
  const rounds = announcer.rounds.length;
  const released = owner.handOff(100);
  timers.advance(99);
  await Promise.resolve();
  t.deepEqual(addresses.current(1), ['198.18.0.200/32', '2001:2::200/128'], 'still held in the grace');
  t.is(announcer.rounds.length, rounds, 'no announcement in the grace (they would pull caches back)');
  timers.advance(1);
  const r = await released;
  t.deepEqual(r.changed, ['198.18.0.200/32', '2001:2::200/128']);
  t.deepEqual(addresses.current(1), []);

  // Taken over again within a grace: the release is cancelled, the VIPs stay.
  await owner.takeOver();
  const cancelled = owner.handOff(100);
  timers.advance(50);
  await owner.takeOver();
  t.like(await cancelled, { superseded: true });
  timers.advance(1000);
  t.deepEqual(addresses.current(1), ['198.18.0.200/32', '2001:2::200/128']);
});
