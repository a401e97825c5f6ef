/**
 * One rtnetlink request, answered before the call returns: for a thread that must act on the
 * kernel at once and cannot wait for an event loop turn (the election thread releasing the VIPs of
 * a hung main thread: failover/thread/hung-main-release.ts).
 *
 * Why this can be synchronous: rtnetlink handles a request inside the sender's sendmsg(2) and
 * queues the acknowledgement on the sender's socket before sendmsg returns (netlink_unicast_kernel
 * runs the family's input handler in the caller's context), so the ack is there to read at once.
 * A fresh socket per call keeps it free of notifications and stray answers.
 */
import { DsrError } from '../errors.ts';
import {
  AF_NETLINK,
  bindSocket,
  closeFd,
  openSocket,
  recvFrom,
  SOCK_RAW,
  sendTo,
  WOULD_BLOCK,
} from '../kernel/libc.ts';
import { NETLINK_ROUTE, NLM_F_ACK, NLMSG_ERROR } from './constants.ts';
import { decodeAck, decodeMessages, encodeMessage, type NetlinkRequest } from './message.ts';
import { ackError, KERNEL, SOCKADDR_NL_LEN, sockaddrNl } from './socket.ts';

const SEQ = 1;

/** Sends `req` and returns once the kernel acknowledged it; throws E_NETLINK (errno in context). */
export function requestNow(req: NetlinkRequest): void {
  const fd = openSocket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  try {
    bindSocket(fd, sockaddrNl(0, 0));
    const data = encodeMessage(
      { type: req.type, flags: req.flags | NLM_F_ACK, seq: SEQ, pid: 0 },
      req.payload,
    );
    if (sendTo(fd, data, KERNEL) === WOULD_BLOCK) {
      throw new DsrError('E_NETLINK', 'the rtnetlink socket send buffer is full', { type: req.type });
    }
    const buf = Buffer.alloc(8192);
    const got = recvFrom(fd, buf, SOCKADDR_NL_LEN);
    if (got === undefined) {
      throw new DsrError('E_NETLINK', `rtnetlink request type ${req.type} was not answered at once`, {
        type: req.type,
      });
    }
    const answer = decodeMessages(buf.subarray(0, Math.min(got.length, buf.length))).find(
      (m) => m.type === NLMSG_ERROR,
    );
    if (answer === undefined) {
      throw new DsrError('E_NETLINK', `rtnetlink request type ${req.type} got no acknowledgement`, {
        type: req.type,
      });
    }
    const ack = decodeAck(answer);
    if (ack.errno !== 0) throw ackError(req.type, ack);
  } finally {
    closeFd(fd);
  }
}
