/** TakeoverAnnouncer over the fake announcer: which rounds a become-master sends, and their counts. */
import test from 'ava';
import { TakeoverAnnouncer } from '../../failover/thread/takeover-announcer.ts';
import { FakeAnnouncer } from '../../failover/vip/fake-announcer.ts';

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';

test("a group's round goes to each of its interfaces with that interface's MAC; other groups send nothing", (t) => {
  const fake = new FakeAnnouncer();
  const a = new TakeoverAnnouncer(fake, {
    1: [
      { ifindex: 4, mac: MAC_A, addresses: ['198.18.0.200', '2001:2::200'] },
      { ifindex: 5, mac: MAC_B, addresses: ['198.18.1.200'] },
    ],
    2: [],
  });
  t.is(fake.rounds.length, 0, 'preparing sends nothing');
  // Request + reply per IPv4 VIP, one NA per IPv6 VIP.
  t.deepEqual(a.announce(1), { sent: 5, failed: 0 });
  t.deepEqual(
    fake.rounds.map((r) => [r.ifindex, r.mac, r.addresses]),
    [
      [4, MAC_A, ['198.18.0.200', '2001:2::200']],
      [5, MAC_B, ['198.18.1.200']],
    ],
  );
  t.is(a.announce(2), undefined, 'no targets: nothing to count');
  t.is(a.announce(3), undefined, 'unknown group');
  t.is(fake.rounds.length, 2);
  // Each takeover sends the round again.
  t.deepEqual(a.announce(1), { sent: 5, failed: 0 });
  t.is(fake.rounds.length, 4);
});

test('frames the kernel refuses are counted with the last error; close closes the announcer', (t) => {
  const fake = new FakeAnnouncer();
  const a = new TakeoverAnnouncer(fake, { 1: [{ ifindex: 4, mac: MAC_A, addresses: ['198.18.0.200'] }] });
  fake.failWith = 'ENETDOWN';
  t.deepEqual(a.announce(1), { sent: 0, failed: 2, lastError: 'ENETDOWN' });
  a.close();
  t.true(fake.closed);
});
