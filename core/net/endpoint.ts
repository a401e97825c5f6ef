/**
 * ADDRESS:PORT as operators write it, with IPv6 in brackets as in URLs (RFC 3986 §3.2.2):
 * "198.18.0.1:9779", "[2001:2::1]:9779". The config (metrics.listen) and dsrctl's arguments use it.
 */
import { formatIp, ipFamily, tryParseIp } from './ip.ts';

export interface Endpoint {
  /** Canonical text (ip.ts). */
  address: string;
  /** 0..65535; a caller that needs a real port checks for 0. */
  port: number;
}

/** The endpoint, or a message saying what is wrong with `text`. */
export function parseEndpoint(text: string): Endpoint | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return `"${text}" is not ADDRESS:PORT (IPv6 in brackets: [2001:2::1]:80)`;
  const address = m[1] ?? m[2];
  const ip = tryParseIp(address);
  if (ip === null) return `"${address}" is not an IP address`;
  if (m[1] !== undefined && ip.family !== 6) return `only IPv6 addresses go in brackets: "${text}"`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is above 65535`;
  return { address: formatIp(ip.bytes), port };
}

export function formatEndpoint(ep: Endpoint): string {
  return ipFamily(ep.address) === 6 ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
}
