/**
 * The connection-table rules of forwarder/bpf/conn.h in TypeScript: state
 * transitions and expiry. Used by the reference model and by the userspace
 * sweep of expired entries, so both judge an entry exactly as the program.
 */
import { DSR, type ForwarderConfig, IPPROTO_TCP } from './layout.ts';

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** Whether `last` is more than `timeout` before `now` (all ns; a stamp ahead of `now` is fresh). */
export function isExpired(now: bigint, last: bigint, timeout: bigint): boolean {
  return BigInt.asIntN(64, now - last) > BigInt.asIntN(64, timeout);
}

export function connTimeout(cfg: ForwarderConfig, state: number): bigint {
  if (state === DSR.CONN_TCP_EST) return cfg.tcpEstTimeoutNs;
  if (state === DSR.CONN_TCP_SYN) return cfg.tcpSynTimeoutNs;
  if (state === DSR.CONN_TCP_CLOSING) return cfg.tcpFinTimeoutNs;
  return cfg.udpTimeoutNs;
}

/** A TCP SYN without ACK: the first packet of a connection. */
export function isSyn(proto: number, flags: number): boolean {
  return proto === IPPROTO_TCP && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
}

export function firstState(proto: number, flags: number): number {
  if (proto !== IPPROTO_TCP) return DSR.CONN_UDP;
  if (flags & (TCP_FIN | TCP_RST)) return DSR.CONN_TCP_CLOSING;
  if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) return DSR.CONN_TCP_SYN;
  return DSR.CONN_TCP_EST;
}

export function nextState(state: number, proto: number, flags: number): number {
  if (proto !== IPPROTO_TCP) return state;
  if (flags & (TCP_FIN | TCP_RST)) return DSR.CONN_TCP_CLOSING;
  if (state === DSR.CONN_TCP_SYN && (flags & (TCP_SYN | TCP_ACK)) === TCP_ACK) return DSR.CONN_TCP_EST;
  return state;
}

/** Whether an entry may carry a packet with these TCP flags (time and TCP state only). */
export function connAlive(
  cfg: ForwarderConfig,
  now: bigint,
  entry: { lastSeenNs: bigint; state: number },
  proto: number,
  flags: number,
): boolean {
  if (isExpired(now, entry.lastSeenNs, connTimeout(cfg, entry.state))) return false;
  // A SYN without ACK on a closing entry is a new connection reusing the ports.
  return !(
    entry.state === DSR.CONN_TCP_CLOSING &&
    proto === IPPROTO_TCP &&
    (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN
  );
}
