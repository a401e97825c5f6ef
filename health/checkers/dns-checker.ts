/**
 * DNS check: one query over UDP; healthy when the reply is a response to our query (same ID and
 * question, RFC 1035 7.3), its RCODE is one we accept, and, if asked, one answer equals the
 * expected value.
 */
import { randomInt } from 'node:crypto';
import { BlockList } from 'node:net';
import { DNS_TYPES, type DnsCheckSpec } from '../check-spec.ts';
import { type Checker, type CheckResult, type CheckTarget, timedCheck } from '../checker.ts';
import { type DnsResponse, decodeResponse, encodeName, encodeQuery, RCODE_NAMES } from './dns-message.ts';
import { udpExchange } from './udp-checker.ts';

export class DnsChecker implements Checker {
  readonly kind = 'dns';
  readonly timeoutMs: number;
  readonly #spec: DnsCheckSpec;
  readonly #qtype: number;
  readonly #rcodes: number[];
  readonly #newId: () => number;

  /** `newId` is injectable so tests can pin the query ID; production uses a random one. */
  constructor(spec: DnsCheckSpec, timeoutMs: number, newId: () => number = () => randomInt(0, 0x10000)) {
    this.timeoutMs = timeoutMs;
    this.#spec = spec;
    this.#qtype = DNS_TYPES[spec.qtype ?? 'A'];
    this.#rcodes = spec.expectRcodes ?? [0];
    this.#newId = newId;
    encodeName(spec.name); // validates the name now, at config time, not at every check
  }

  check(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    return timedCheck(signal, this.timeoutMs, async (sig) => {
      const id = this.#newId();
      const query = encodeQuery({
        id,
        name: this.#spec.name,
        qtype: this.#qtype,
        recursion: !!this.#spec.recursion,
      });
      const reply = await udpExchange(target, query, this.#spec.source, sig);
      return this.#judge(decodeResponse(reply), id);
    });
  }

  #judge(res: DnsResponse, id: number): { ok: boolean; detail: string } {
    const want = normalName(this.#spec.name);
    if (!res.qr || res.id !== id) return { ok: false, detail: `reply is not a response to query id ${id}` };
    const q = res.questions[0];
    // A server may omit the question on some errors; when present it must be ours.
    if (q && (normalName(q.name) !== want || q.type !== this.#qtype)) {
      return { ok: false, detail: `response is for ${q.name} type ${q.type}, not ${this.#spec.name}` };
    }
    const rcodeName = RCODE_NAMES[res.rcode] ?? `RCODE ${res.rcode}`;
    if (!this.#rcodes.includes(res.rcode))
      return { ok: false, detail: `${rcodeName} for ${this.#spec.name}` };
    const expected = this.#spec.expectAnswer;
    if (expected === undefined) return { ok: true, detail: `${rcodeName}, ${res.answers.length} answer(s)` };
    const answers = res.answers.filter((a) => a.type === this.#qtype).map((a) => a.data);
    if (answers.some((a) => answerEquals(this.#qtype, a, expected))) {
      return { ok: true, detail: `${rcodeName}, answer ${expected} present` };
    }
    const seen = answers.length ? answers.join(', ') : res.tc ? 'none (truncated)' : 'none';
    return { ok: false, detail: `expected answer ${expected}, got ${seen}` };
  }
}

function normalName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

function answerEquals(qtype: number, actual: string, expected: string): boolean {
  if (qtype === DNS_TYPES.A || qtype === DNS_TYPES.AAAA) {
    // BlockList compares addresses by value, so '2001:2::1' equals '2001:0002:0:0::1'.
    const family = qtype === DNS_TYPES.A ? 'ipv4' : 'ipv6';
    const list = new BlockList();
    try {
      list.addAddress(expected, family);
    } catch {
      return false;
    }
    return list.check(actual, family);
  }
  if (qtype === DNS_TYPES.TXT) return actual === expected;
  return normalName(actual) === normalName(expected);
}
