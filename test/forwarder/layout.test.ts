/**
 * forwarder/layout.ts against the C definition: struct sizes and member
 * offsets from the BTF that clang emits into dsr_xdp.o, and the constants
 * from dsr_shared.h's #defines. Plus encode/decode round trips.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { maskBytes, prefixMask } from '../../core/net/prefix.ts';
import { bpfObjectPath, buildBpf } from '../../forwarder/bpf-build.ts';
import {
  DSR,
  decodeConn,
  decodeEvent,
  decodeFlow4,
  decodeReal,
  decodeSvc,
  decodeSvcKey,
  encodeConn,
  encodeEvent,
  encodeFlow4,
  encodeReal,
  encodeSvc,
  encodeSvcKey,
  formatMapAddress,
  LAYOUT,
  mapBytes,
  parseMapAddress,
  REASON_COUNT,
  REASONS,
} from '../../forwarder/layout.ts';

const header = readFileSync(join(import.meta.dirname, '../../forwarder/bpf/dsr_shared.h'), 'utf8');

interface BtfStruct {
  size: number;
  members: Map<string, number>;
}

function btfStructs(): Map<string, BtfStruct> {
  buildBpf({ quiet: true });
  const r = spawnSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('dsr_xdp'), 'format', 'raw'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`bpftool failed: ${r.stderr}`);
  const out = new Map<string, BtfStruct>();
  let current: BtfStruct | null = null;
  for (const line of r.stdout.split('\n')) {
    const s = /^\[\d+\] STRUCT '([^']+)' size=(\d+)/.exec(line);
    if (s) {
      current = { size: Number(s[1] === '' ? 0 : s[2]), members: new Map() };
      out.set(s[1], current);
      continue;
    }
    const m = /^\s+'([^']*)' type_id=\d+ bits_offset=(\d+)/.exec(line);
    if (m && current) current.members.set(m[1], Number(m[2]) / 8);
    else if (!line.startsWith('\t')) current = null;
  }
  return out;
}

function defines(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of header.matchAll(/^#define (DSR_\w+)\s+(.+?)\s*(\/\*.*)?$/gm)) {
    const expr = m[2].replace(/u\b/g, '').trim();
    const shift = /^\((\d+) << (\d+)\)$/.exec(expr);
    if (shift) out.set(m[1], Number(shift[1]) * 2 ** Number(shift[2]));
    else if (/^(0x[0-9a-f]+|\d+)$/i.test(expr)) out.set(m[1], Number(expr));
  }
  return out;
}

test('the C compiler agrees with every size and offset in layout.ts (static asserts)', (t) => {
  const lines = ['#include <stddef.h>', '#include "dsr_shared.h"'];
  for (const [name, spec] of Object.entries(LAYOUT)) {
    lines.push(`_Static_assert(sizeof(struct ${name}) == ${spec.size}, "sizeof ${name}");`);
    for (const [field, off] of Object.entries(spec.fields)) {
      lines.push(`_Static_assert(offsetof(struct ${name}, ${field}) == ${off}, "${name}.${field}");`);
    }
  }
  const r = spawnSync(
    'clang',
    [
      '-fsyntax-only',
      '-target',
      'bpf',
      '-I/usr/include/x86_64-linux-gnu',
      `-I${join(import.meta.dirname, '../../forwarder/bpf')}`,
      '-x',
      'c',
      '-',
    ],
    { input: lines.join('\n'), encoding: 'utf8' },
  );
  t.is(r.status, 0, r.stderr);
});

test('structs in the built object (BTF) have the sizes and member offsets layout.ts uses', (t) => {
  const btf = btfStructs();
  // dsr_event only lives in a ring buffer record, which BTF does not describe; the static asserts cover it.
  for (const [name, spec] of Object.entries(LAYOUT).filter(([n]) => n !== 'dsr_event')) {
    const s = btf.get(name);
    t.truthy(s, `${name} is in the object's BTF`);
    if (!s) continue;
    t.is(s.size, spec.size as number, `sizeof(struct ${name})`);
    t.deepEqual(
      Object.fromEntries(Object.entries(spec.fields).sort()),
      Object.fromEntries([...s.members].sort()),
      `members of struct ${name}`,
    );
  }
  // Every shared struct is mirrored (struct names in the header).
  for (const m of header.matchAll(/^struct (dsr_\w+) \{/gm)) t.true(m[1] in LAYOUT, `${m[1]} mirrored`);
});

test('constants match the header #defines', (t) => {
  const d = defines();
  for (const [name, value] of Object.entries(DSR)) t.is(d.get(`DSR_${name}`), value as number, `DSR_${name}`);
  for (const [name, value] of Object.entries(REASONS)) {
    t.is(d.get(`DSR_R_${name.toUpperCase()}`), value as number, `DSR_R_${name.toUpperCase()}`);
  }
  t.is(d.get('DSR_R_MAX'), REASON_COUNT);
});

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u16 = fc.integer({ min: 0, max: 0xffff });

test('encoders and decoders round-trip', (t) => {
  fc.assert(
    fc.property(
      bytes(16),
      u16,
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(4 as const, 6 as const),
      (vip, port, proto, family) => {
        const k = { vip, port, proto, family };
        t.deepEqual(decodeSvcKey(encodeSvcKey(k)), k);
      },
    ),
  );
  fc.assert(
    fc.property(
      bytes(16),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.integer({ min: 0, max: 0xffffffff }),
      u16,
      (mask, ns, size, gen) => {
        const s = { mask, persistTimeoutNs: ns, maglevSize: size, gen, flags: gen & 0xff };
        t.deepEqual(decodeSvc(encodeSvc(s)), s);
      },
    ),
  );
  fc.assert(
    fc.property(bytes(6), bytes(6), bytes(16), u16, u16, (mac, srcMac, addr, gen, vlan) => {
      const r = {
        mac,
        srcMac,
        ifindex: gen * 3,
        gen,
        vlan,
        flags: 3,
        family: 6 as const,
        svcId: vlan >> 1,
        weight: gen,
        addr,
      };
      t.deepEqual(decodeReal(encodeReal(r)), r);
    }),
  );
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      u16,
      u16,
      fc.integer({ min: 1, max: 4 }),
      (ns, a, b, state) => {
        const c = {
          lastSeenNs: ns,
          reportedNs: ns / 2n,
          realId: a,
          realGen: b,
          svcId: b,
          svcGen: a,
          state,
          syncEpoch: b,
        };
        t.deepEqual(decodeConn(encodeConn(c)), c);
      },
    ),
  );
  fc.assert(
    fc.property(bytes(4), bytes(4), u16, u16, (s4, d4, sport, dport) => {
      const src = new Uint8Array(16);
      const dst = new Uint8Array(16);
      src.set(s4);
      dst.set(d4);
      const f = { src, dst, sport, dport, proto: 6, family: 4 as const };
      t.deepEqual(decodeFlow4(encodeFlow4(f)), f);
      const e = { tsNs: 5n, flow: f, realId: sport, svcId: dport, type: 1, state: 2 };
      t.deepEqual(decodeEvent(encodeEvent(e)), e);
    }),
  );
});

test('map addresses are 16 bytes whatever the family, and read back as canonical text', (t) => {
  t.deepEqual(parseMapAddress('198.18.0.200'), {
    family: 4,
    bytes: Uint8Array.from([198, 18, 0, 200, ...new Array(12).fill(0)]),
  });
  const v6 = parseMapAddress('2001:2::200');
  t.is(v6.family, 6);
  t.deepEqual([...v6.bytes], [0x20, 0x01, 0, 2, ...new Array(10).fill(0), 2, 0]);
  t.deepEqual([...parseMapAddress('::ffff:198.18.0.1').bytes.subarray(10)], [0xff, 0xff, 198, 18, 0, 1]);
  t.deepEqual([...mapBytes(prefixMask(4, 20))], [255, 255, 0xf0, 0, ...new Array(12).fill(0)]);
  t.is(
    formatMapAddress(4, maskBytes(parseMapAddress('198.18.77.9').bytes, mapBytes(prefixMask(4, 24)))),
    '198.18.77.0',
  );
  fc.assert(
    fc.property(bytes(4), (b4) => {
      const b = mapBytes(b4);
      t.deepEqual(parseMapAddress(formatMapAddress(4, b)).bytes, b);
    }),
  );
  fc.assert(
    fc.property(bytes(16), (b) => {
      t.deepEqual(parseMapAddress(formatMapAddress(6, b)).bytes, b);
    }),
  );
});
