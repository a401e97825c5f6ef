/**
 * The DNS checker against a tiny authoritative responder written here by hand (independently of
 * health/checkers/dns-message.ts, so the codec is not tested against itself).
 */
import test from 'ava';
import type { DnsCheckSpec } from '../../health/check-spec.ts';
import { createChecker } from '../../health/checkers/create-checker.ts';
import { udpServer } from './local-servers.ts';

const never = new AbortController().signal;

interface Zone {
  [nameAndType: string]: Buffer[]; // key 'name/type', values are rdata
}

/** Parses the question of a query: name labels, type; returns where the question ends. */
function parseQuestion(q: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let p = 12;
  while (q[p] !== 0) {
    labels.push(q.toString('ascii', p + 1, p + 1 + q[p]));
    p += 1 + q[p];
  }
  return { name: labels.join('.').toLowerCase(), type: q.readUInt16BE(p + 1), end: p + 5 };
}

type Mode = 'normal' | 'wrong-id' | 'servfail' | 'silent' | 'garbage';

function responder(zone: Zone, mode: () => Mode) {
  return (q: Buffer): Buffer | null => {
    const m = mode();
    if (m === 'silent') return null;
    if (m === 'garbage') return Buffer.from([1, 2, 3]);
    const { name, type, end } = parseQuestion(q);
    const rdatas = zone[`${name}/${type}`] ?? [];
    const known = Object.keys(zone).some((k) => k.startsWith(`${name}/`));
    const rcode = m === 'servfail' ? 2 : known ? 0 : 3;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(m === 'wrong-id' ? q.readUInt16BE(0) ^ 1 : q.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8400 | (q.readUInt16BE(2) & 0x0100) | rcode, 2); // QR AA, RD copied
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rcode === 0 ? rdatas.length : 0, 6);
    const answers =
      rcode === 0
        ? rdatas.map((rd) => {
            const rr = Buffer.alloc(12);
            rr.writeUInt16BE(0xc00c, 0); // pointer to the question name at offset 12
            rr.writeUInt16BE(type, 2);
            rr.writeUInt16BE(1, 4);
            rr.writeUInt32BE(60, 6);
            rr.writeUInt16BE(rd.length, 10);
            return Buffer.concat([rr, rd]);
          })
        : [];
    return Buffer.concat([header, q.subarray(12, end), ...answers]);
  };
}

const zone: Zone = {
  'www.lab.test/1': [Buffer.from([198, 18, 0, 100]), Buffer.from([198, 18, 0, 101])],
  'www.lab.test/28': [Buffer.from('20010002000000000000000000000100', 'hex')],
  'www.lab.test/16': [Buffer.from('\x05hello\x05world', 'latin1')],
};

async function withResponder(t: import('ava').ExecutionContext, mode: () => Mode = () => 'normal') {
  const server = await udpServer('127.0.0.1', responder(zone, mode));
  t.teardown(() => server.close());
  return { address: '127.0.0.1', port: server.port };
}

const dns = (extra: Partial<DnsCheckSpec>): DnsCheckSpec => ({
  kind: 'dns',
  name: 'www.lab.test',
  timeoutMs: 2000,
  ...extra,
});

test('dns: NOERROR is healthy', async (t) => {
  const target = await withResponder(t);
  const r = await createChecker(dns({})).check(target, never);
  t.true(r.ok, r.detail);
  t.regex(r.detail, /NOERROR, 2 answer/);
});

test('dns: an expected A answer is found among several; a missing one fails', async (t) => {
  const target = await withResponder(t);
  t.true((await createChecker(dns({ expectAnswer: '198.18.0.101' })).check(target, never)).ok);
  const bad = await createChecker(dns({ expectAnswer: '198.18.0.102' })).check(target, never);
  t.false(bad.ok);
  t.regex(bad.detail, /expected answer 198.18.0.102, got 198.18.0.100, 198.18.0.101/);
});

test('dns: AAAA answers compare by value, not by spelling', async (t) => {
  const target = await withResponder(t);
  const r = await createChecker(dns({ qtype: 'AAAA', expectAnswer: '2001:0002:0:0::100' })).check(
    target,
    never,
  );
  t.true(r.ok, r.detail);
});

test('dns: TXT strings are joined', async (t) => {
  const target = await withResponder(t);
  t.true((await createChecker(dns({ qtype: 'TXT', expectAnswer: 'helloworld' })).check(target, never)).ok);
});

test('dns: NXDOMAIN fails unless accepted', async (t) => {
  const target = await withResponder(t);
  const r = await createChecker(dns({ name: 'nope.lab.test' })).check(target, never);
  t.false(r.ok);
  t.regex(r.detail, /NXDOMAIN/);
  t.true((await createChecker(dns({ name: 'nope.lab.test', expectRcodes: [0, 3] })).check(target, never)).ok);
});

test('dns: SERVFAIL fails', async (t) => {
  const target = await withResponder(t, () => 'servfail');
  const r = await createChecker(dns({})).check(target, never);
  t.false(r.ok);
  t.regex(r.detail, /SERVFAIL/);
});

test('dns: a reply with another query id is not accepted', async (t) => {
  const target = await withResponder(t, () => 'wrong-id');
  const r = await createChecker(dns({})).check(target, never);
  t.false(r.ok);
  t.regex(r.detail, /not a response to query id/);
});

test('dns: a malformed reply fails with a decode error, not a crash', async (t) => {
  const target = await withResponder(t, () => 'garbage');
  const r = await createChecker(dns({})).check(target, never);
  t.false(r.ok);
  t.regex(r.detail, /E_DECODE/);
});

test('dns: a silent server times out', async (t) => {
  const target = await withResponder(t, () => 'silent');
  const r = await createChecker(dns({ timeoutMs: 150 })).check(target, never);
  t.false(r.ok);
  t.is(r.detail, 'timeout after 150 ms');
});

test('dns: an invalid name is a config error at build time', (t) => {
  const err = t.throws(() => createChecker(dns({ name: `${'a'.repeat(64)}.test` })));
  t.regex(err.message, /E_CONFIG_INVALID/);
});
