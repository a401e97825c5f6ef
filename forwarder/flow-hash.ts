/**
 * The flow hash of forwarder/bpf/hash.h, bit for bit: jhash2 (Bob Jenkins'
 * lookup3 hashword, as the Linux kernel's jhash2) over 32-bit words read
 * big-endian from the addresses and ports. See hash.h for the definition;
 * the differential test checks that program and model agree.
 */
import type { Flow } from './layout.ts';

const INITVAL = 0xdeadbeef;

const rol = (w: number, s: number): number => ((w << s) | (w >>> (32 - s))) >>> 0;

/** lookup3 hashword() over `words` (each 0..2^32-1) with `seed`. */
export function jhash2(words: readonly number[], seed: number): number {
  let a = (INITVAL + (words.length << 2) + seed) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  let n = words.length;
  while (n > 3) {
    a = (a + words[i]) >>> 0;
    b = (b + words[i + 1]) >>> 0;
    c = (c + words[i + 2]) >>> 0;
    // mix(a, b, c)
    a = (a - c) >>> 0;
    a = (a ^ rol(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rol(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rol(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rol(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rol(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rol(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    i += 3;
    n -= 3;
  }
  if (n === 0) return c;
  if (n === 3) c = (c + words[i + 2]) >>> 0;
  if (n >= 2) b = (b + words[i + 1]) >>> 0;
  a = (a + words[i]) >>> 0;
  // final(a, b, c)
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rol(b, 24)) >>> 0;
  return c;
}

function addrWords(addr: Uint8Array): number[] {
  const v = new DataView(addr.buffer, addr.byteOffset, 16);
  return [v.getUint32(0, false), v.getUint32(4, false), v.getUint32(8, false), v.getUint32(12, false)];
}

/** Hash of a flow: src, dst, (sport << 16 | dport), proto. */
export function hashFlow(flow: Flow, seed: number): number {
  const ports = ((flow.sport << 16) | flow.dport) >>> 0;
  return jhash2([...addrWords(flow.src), ...addrWords(flow.dst), ports, flow.proto], seed >>> 0);
}

/** Hash of a (masked) client address, for persistence services. */
export function hashClient(addr: Uint8Array, seed: number): number {
  return jhash2(addrWords(addr), seed >>> 0);
}
