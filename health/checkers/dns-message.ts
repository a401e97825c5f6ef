/**
 * The minimal DNS message codec the DNS health check needs: build one query, read one response.
 *
 * Wire format per RFC 1035 section 4.1 (header 4.1.1, question 4.1.2, resource records 4.1.3,
 * name compression 4.1.4). Decoding treats the response as hostile input: every length and pointer
 * is bounds-checked, compression pointers may only point backwards (so they cannot loop), and any
 * violation is a DsrError E_DECODE, never an exception from a Buffer read.
 */
import { DsrError } from '../../core/errors.ts';
import { formatIp } from '../../core/net/ip.ts';

export interface DnsQuery {
  id: number;
  name: string;
  qtype: number;
  /** RD bit (RFC 1035 4.1.1). */
  recursion: boolean;
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** A/AAAA: address text; CNAME/NS/PTR: name; MX: exchange name; TXT: strings joined; else hex. */
  data: string;
}

export interface DnsResponse {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
}

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

const CLASS_IN = 1;
const HEADER_LEN = 12;
const MAX_NAME_LEN = 255; // RFC 1035 2.3.4, in wire octets
const MAX_LABEL_LEN = 63;

/** Encodes a name as length-prefixed labels; accepts a trailing dot; '' or '.' is the root. */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed === '' ? [] : trimmed.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length === 0 || bytes.length > MAX_LABEL_LEN || /[^\x21-\x7e]/.test(label)) {
      throw new DsrError('E_CONFIG_INVALID', `DNS name ${JSON.stringify(name)} has an invalid label`, {
        name,
        label,
      });
    }
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > MAX_NAME_LEN) {
    throw new DsrError('E_CONFIG_INVALID', `DNS name is longer than ${MAX_NAME_LEN} octets`, { name });
  }
  return wire;
}

export function encodeQuery(q: DnsQuery): Buffer {
  if (!Number.isInteger(q.id) || q.id < 0 || q.id > 0xffff) throw new RangeError('DNS id must be 0..65535');
  const header = Buffer.alloc(HEADER_LEN);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(q.recursion ? 0x0100 : 0, 2); // QR=0 OPCODE=0 (QUERY), RD as asked
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.qtype, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(q.name), tail]);
}

function bad(reason: string, offset: number): DsrError {
  return new DsrError('E_DECODE', `DNS response: ${reason}`, { offset });
}

/** Reads a possibly compressed name at `offset`; returns it and the offset just past it in place. */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1; // where parsing resumes after the first pointer
  let wireLen = 0;
  for (;;) {
    if (pos >= buf.length) throw bad('name runs past the end', pos);
    const len = buf[pos];
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw bad('truncated compression pointer', pos);
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      // Only backward pointers: each jump strictly decreases pos, so a loop is impossible.
      if (target >= pos) throw bad('compression pointer does not point backwards', pos);
      if (next < 0) next = pos + 2;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw bad('reserved label type', pos);
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw bad('label runs past the end', pos);
    wireLen += len + 1;
    if (wireLen + 1 > MAX_NAME_LEN) throw bad('name longer than 255 octets', pos);
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

function need(buf: Buffer, offset: number, n: number, what: string): void {
  if (offset + n > buf.length) throw bad(`${what} runs past the end`, offset);
}

function readRdata(buf: Buffer, type: number, start: number, len: number): string {
  const rdata = buf.subarray(start, start + len);
  switch (type) {
    case 1:
      if (len !== 4) throw bad('A record is not 4 octets', start);
      return formatIp(rdata);
    case 28:
      if (len !== 16) throw bad('AAAA record is not 16 octets', start);
      return formatIp(rdata);
    case 2:
    case 5:
    case 12:
      return readName(buf, start).name;
    case 15:
      if (len < 3) throw bad('MX record too short', start);
      return readName(buf, start + 2).name;
    case 16: {
      const texts: string[] = [];
      for (let p = 0; p < len; ) {
        const n = rdata[p];
        if (p + 1 + n > len) throw bad('TXT string runs past its record', start + p);
        texts.push(rdata.toString('latin1', p + 1, p + 1 + n));
        p += 1 + n;
      }
      return texts.join('');
    }
    default:
      return rdata.toString('hex');
  }
}

export function decodeResponse(buf: Buffer): DnsResponse {
  if (buf.length < HEADER_LEN) throw bad('shorter than a header', 0);
  const flags = buf.readUInt16BE(2);
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  const res: DnsResponse = {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
  };
  let pos = HEADER_LEN;
  for (let i = 0; i < qdcount; i++) {
    const { name, next } = readName(buf, pos);
    need(buf, next, 4, 'question');
    res.questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  for (let i = 0; i < ancount; i++) {
    const { name, next } = readName(buf, pos);
    need(buf, next, 10, 'record header');
    const type = buf.readUInt16BE(next);
    const rdlen = buf.readUInt16BE(next + 8);
    need(buf, next + 10, rdlen, 'record data');
    res.answers.push({
      name,
      type,
      class: buf.readUInt16BE(next + 2),
      ttl: buf.readUInt32BE(next + 4),
      data: readRdata(buf, type, next + 10, rdlen),
    });
    pos = next + 10 + rdlen;
  }
  return res;
}
