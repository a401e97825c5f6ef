/**
 * Small schema builders shared by the config schema. Each one's error message reads
 * "expected <what>"; the issue formatter (issues.ts) appends what was found.
 */
import { z } from 'zod';
import { parseEndpoint } from '../core/net/endpoint.ts';
import { ipFamily } from '../core/net/ip.ts';
import { isMulticast, isUsableUnicast } from '../core/net/ranges.ts';

export function intIn(min: number, max: number, what = `an integer from ${min} to ${max}`) {
  const error = `expected ${what}`;
  return z
    .number({ error })
    .refine((v) => Number.isInteger(v) && v >= min && v <= max, { error, abort: true });
}

export function flag() {
  return z.boolean({ error: 'expected true or false' });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const NAME_WANTED = 'a name: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';

export function name() {
  return z.string({ error: `expected ${NAME_WANTED}` }).regex(NAME_RE, { error: `expected ${NAME_WANTED}` });
}

/** Linux interface names: at most IFNAMSIZ-1 = 15 bytes, no "/" or whitespace (dev_valid_name()). */
const IFNAME_RE = /^[A-Za-z0-9_.@:+-]{1,15}$/;
export function ifName() {
  const error = 'expected an interface name (1-15 characters, no "/" or spaces)';
  return z.string({ error }).refine((s) => IFNAME_RE.test(s) && s !== '.' && s !== '..', { error });
}

export function unicastAddress() {
  const error = 'expected an IPv4 or IPv6 address';
  return z
    .string({ error })
    .refine((s) => ipFamily(s) !== null, { error, abort: true })
    .refine(isUsableUnicast, {
      error: 'expected a unicast address (not unspecified, loopback, multicast, broadcast or link-local)',
    });
}

export function multicastAddress() {
  const error = 'expected an IPv4 or IPv6 multicast address';
  return z.string({ error }).refine(isMulticast, { error });
}

export function hostPort() {
  const error = 'expected ADDRESS:PORT, e.g. 127.0.0.1:9779 or [::1]:9779';
  return z.string({ error }).refine(
    (s) => {
      const ep = parseEndpoint(s);
      return typeof ep !== 'string' && ep.port >= 1;
    },
    { error },
  );
}

export function absolutePath() {
  const error = 'expected an absolute path';
  return z.string({ error }).refine((s) => s.startsWith('/') && !s.includes('\0'), { error });
}

/** Key and secret files may be relative: they are resolved against the config file's directory. */
export function filePath() {
  const error = 'expected a file path';
  return z.string({ error }).refine((s) => s.length > 0 && !s.includes('\0'), { error });
}

export function argv() {
  return z
    .array(z.string({ error: 'expected a string' }), {
      error: 'expected a command as a list: [/path/to/program, arg, ...]',
    })
    .min(1, { error: 'expected a command as a list: [/path/to/program, arg, ...]' })
    .refine((a) => a[0].startsWith('/'), {
      error: 'expected an absolute program path as the first element (no $PATH lookup)',
      path: [0],
    });
}

export function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

export function compilesAsRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}

export function regexText() {
  const error = 'expected a valid JavaScript regular expression';
  return z.string({ error }).refine(compilesAsRegex, { error });
}

export function httpUrl() {
  const error = 'expected an http:// or https:// URL';
  return z.string({ error }).refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error },
  );
}

/** A file mode as a quoted octal string: YAML 1.2 reads an unquoted 0660 as decimal 660. */
export function fileMode() {
  const error = 'expected a quoted octal file mode such as "0660"';
  return z
    .string({ error })
    .regex(/^(0o?)?[0-7]{3}$/, { error, abort: true })
    .refine((s) => (parseFileMode(s) & 0o007) === 0, {
      error: 'expected a mode that gives others no access',
    });
}

export function parseFileMode(s: string): number {
  return Number.parseInt(s.replace(/^0o?/, ''), 8);
}

/** `200`, `"200"` or `"200-399"` to an inclusive range of HTTP status codes; null when malformed. */
export function parseStatusRange(v: number | string): { min: number; max: number } | null {
  const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(String(v));
  if (!m) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return min <= max ? { min, max } : null;
}
