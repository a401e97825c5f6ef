/**
 * Parsing of the endpoints operators type: CLIENT:PORT and VIP:PORT/PROTO, with IPv6 in
 * brackets as in URLs (RFC 3986 §3.2.2): "[2001:2::10]:53/udp".
 */
import { isIP } from 'node:net';

export interface Endpoint {
  address: string;
  port: number;
}

export interface ServiceEndpoint extends Endpoint {
  protocol: 'tcp' | 'udp';
}

/** Returns the endpoint, or a message saying what is wrong with `text`. */
export function parseEndpoint(text: string): Endpoint | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return `"${text}" is not ADDRESS:PORT (IPv6 in brackets: [2001:2::1]:80)`;
  const address = m[1] ?? m[2];
  if (isIP(address) === 0) return `"${address}" is not an IP address`;
  if (m[1] !== undefined && isIP(address) !== 6) return `only IPv6 addresses go in brackets: "${text}"`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is above 65535`;
  return { address, port };
}

export function parseServiceEndpoint(text: string): ServiceEndpoint | string {
  const slash = text.lastIndexOf('/');
  if (slash === -1) return `"${text}" needs a protocol: ADDRESS:PORT/tcp or ADDRESS:PORT/udp`;
  const protocol = text.slice(slash + 1).toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp')
    return `protocol "${text.slice(slash + 1)}" is not tcp or udp`;
  const ep = parseEndpoint(text.slice(0, slash));
  return typeof ep === 'string' ? ep : { ...ep, protocol };
}
