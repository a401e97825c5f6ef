/**
 * A NETLINK_ROUTE socket driven from the event loop: requests with promise replies, and kernel
 * notifications for the multicast groups it joined.
 *
 * - Non-blocking (SOCK_NONBLOCK): reads happen when libuv reports the fd readable (fd-watch.ts),
 *   never in a blocking call.
 * - Replies are matched by sequence number and our port id. A dump ends with NLMSG_DONE; any
 *   other request is sent with NLM_F_ACK, so it ends with NLMSG_ERROR (errno 0 = success). A dump
 *   the kernel marks NLM_F_DUMP_INTR (the table changed under it) is re-run, a bounded number of
 *   times.
 * - Anything else from the kernel is a notification. Messages from a sender other than the
 *   kernel (port id 0) and undecodable datagrams are dropped and counted, never thrown.
 * - ENOBUFS on receive means the kernel dropped notifications because our queue was full: the
 *   socket reports an overrun, and a subscriber must re-read the whole state (dump) to resync.
 */
import { DsrError } from '../errors.ts';
import { type FdWatch, watchReadable } from '../kernel/fd-watch.ts';
import {
  AF_NETLINK,
  bindSocket,
  closeFd,
  errnoName,
  errnos,
  openSocket,
  recvFrom,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_RAW,
  SOL_SOCKET,
  sendTo,
  setSocketOptionInt,
  socketName,
  WOULD_BLOCK,
} from '../kernel/libc.ts';
import {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_OVERRUN,
  SOL_NETLINK,
} from './constants.ts';
import {
  decodeAck,
  decodeMessages,
  encodeMessage,
  type NetlinkAck,
  type NetlinkMessage,
  type NetlinkRequest,
} from './message.ts';

export const SOCKADDR_NL_LEN = 12;
/** Larger than any datagram the kernel builds for rtnetlink (dumps use at most 32 KiB). */
const RECV_BUFFER_BYTES = 64 * 1024;
/** Datagrams read per readiness callback, so a flood cannot starve the event loop (level-triggered). */
const READS_PER_WAKEUP = 64;
const DUMP_RETRIES = 3;

export interface NetlinkSocketOptions {
  /** RTNLGRP_* groups to receive notifications from. */
  groups?: number[];
  /** Kernel receive buffer; monitors of busy tables want more than the default. */
  receiveBufferBytes?: number;
  /** Time a request may take before it fails with E_TIMEOUT. */
  requestTimeoutMs?: number;
}

export interface NetlinkSocketStats {
  datagrams: number;
  notifications: number;
  overruns: number;
  droppedDecode: number;
  droppedForeign: number;
  droppedStray: number;
}

interface Pending {
  request: NetlinkRequest;
  dump: boolean;
  /** Whether replies carry data (RTM_GET*), as opposed to only the final ack. */
  collects: boolean;
  replies: NetlinkMessage[];
  interrupted: boolean;
  retries: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (msgs: NetlinkMessage[]) => void;
  reject: (err: unknown) => void;
}

export function sockaddrNl(pid: number, groups: number): Buffer {
  const b = Buffer.alloc(SOCKADDR_NL_LEN);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(pid, 4);
  b.writeUInt32LE(groups, 8);
  return b;
}

export const KERNEL = sockaddrNl(0, 0);

/** The error a negative acknowledgement of a request of `type` means: E_NETLINK naming the errno. */
export function ackError(type: number, ack: NetlinkAck): DsrError {
  const name = errnoName(ack.errno);
  const detail = ack.message === undefined ? '' : `: ${ack.message}`;
  return new DsrError('E_NETLINK', `rtnetlink request type ${type} failed with ${name}${detail}`, {
    type,
    errno: ack.errno,
    errnoName: name,
    kernelMessage: ack.message,
  });
}

/** RTM_GETLINK, RTM_GETADDR, RTM_GETNEIGH, ...: every rtnetlink GET type is 2 mod 4 from 16. */
function isGet(type: number): boolean {
  return type >= 16 && (type - 16) % 4 === 2;
}

export class NetlinkSocket {
  readonly portId: number;
  readonly stats: NetlinkSocketStats = {
    datagrams: 0,
    notifications: 0,
    overruns: 0,
    droppedDecode: 0,
    droppedForeign: 0,
    droppedStray: 0,
  };
  readonly #fd: number;
  readonly #watch: FdWatch;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  readonly #buf = Buffer.alloc(RECV_BUFFER_BYTES);
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #closed = false;
  #onNotification: ((msg: NetlinkMessage) => void) | undefined;
  #onOverrun: (() => void) | undefined;

  /** Opens the socket at once (synchronously), in the calling thread's network namespace. */
  constructor(options: NetlinkSocketOptions = {}) {
    this.#timeoutMs = options.requestTimeoutMs ?? 5000;
    const fd = openSocket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    try {
      bindSocket(fd, sockaddrNl(0, 0));
      this.portId = socketName(fd, SOCKADDR_NL_LEN).readUInt32LE(4);
      // Extended acks give the kernel's own error text; capped acks do not echo our request back.
      // Both exist since Linux 4.12; without them errors are still reported by errno alone.
      for (const opt of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) {
        try {
          setSocketOptionInt(fd, SOL_NETLINK, opt, 1);
        } catch {}
      }
      if (options.receiveBufferBytes !== undefined) setReceiveBuffer(fd, options.receiveBufferBytes);
      for (const group of options.groups ?? [])
        setSocketOptionInt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
      this.#watch = watchReadable(
        fd,
        () => this.#drain(),
        (err) => this.#failAll(err),
      );
      // An open socket alone does not keep the process alive; a pending request's timer does.
      this.#watch.unref();
    } catch (err) {
      closeFd(fd);
      throw new DsrError('E_NETLINK', 'could not open an rtnetlink socket', {}, err);
    }
    this.#fd = fd;
  }

  /** Handler for kernel notifications (one per socket: the owner decodes and fans out). */
  onNotification(handler: (msg: NetlinkMessage) => void): void {
    this.#onNotification = handler;
  }

  /** Handler called when the kernel dropped notifications for this socket (ENOBUFS). */
  onOverrun(handler: () => void): void {
    this.#onOverrun = handler;
  }

  /**
   * Sends a request; resolves with the data replies (for GET and dump requests; empty for others)
   * once the kernel acknowledged it. Rejects with E_NETLINK (errno in context) or E_TIMEOUT.
   */
  request(req: NetlinkRequest): Promise<NetlinkMessage[]> {
    if (this.#closed) return Promise.reject(new DsrError('E_NETLINK', 'the rtnetlink socket is closed', {}));
    return new Promise((resolve, reject) => {
      const dump = (req.flags & NLM_F_DUMP) === NLM_F_DUMP;
      const pending: Pending = {
        request: req,
        dump,
        collects: isGet(req.type),
        replies: [],
        interrupted: false,
        retries: 0,
        timer: undefined,
        resolve,
        reject,
      };
      this.#send(pending);
    });
  }

  #send(pending: Pending): void {
    clearTimeout(pending.timer);
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const seq = this.#seq;
    const req = pending.request;
    const flags = pending.dump ? req.flags : req.flags | NLM_F_ACK;
    const data = encodeMessage({ type: req.type, flags, seq, pid: this.portId }, req.payload);
    pending.replies = [];
    pending.interrupted = false;
    pending.timer = setTimeout(() => {
      this.#pending.delete(seq);
      pending.reject(
        new DsrError(
          'E_TIMEOUT',
          `rtnetlink request type ${req.type} got no answer in ${this.#timeoutMs} ms`,
          {
            type: req.type,
            seq,
          },
        ),
      );
    }, this.#timeoutMs);
    this.#pending.set(seq, pending);
    let sent: number;
    try {
      sent = sendTo(this.#fd, data, KERNEL);
    } catch (err) {
      this.#settle(seq, pending);
      pending.reject(new DsrError('E_NETLINK', `sending rtnetlink request type ${req.type} failed`, {}, err));
      return;
    }
    if (sent === WOULD_BLOCK) {
      this.#settle(seq, pending);
      pending.reject(
        new DsrError('E_NETLINK', 'the rtnetlink socket send buffer is full', { type: req.type }),
      );
    }
  }

  #settle(seq: number, pending: Pending): void {
    clearTimeout(pending.timer);
    this.#pending.delete(seq);
  }

  #drain(): void {
    for (let i = 0; i < READS_PER_WAKEUP && !this.#closed; i++) {
      let got: ReturnType<typeof recvFrom>;
      try {
        got = recvFrom(this.#fd, this.#buf, SOCKADDR_NL_LEN);
      } catch (err) {
        if (err instanceof DsrError && err.context.errno === errnos.ENOBUFS) {
          this.stats.overruns++;
          this.#onOverrun?.();
          continue;
        }
        this.#failAll(err);
        return;
      }
      if (got === undefined) return;
      this.stats.datagrams++;
      if (got.from.length >= 8 && got.from.readUInt32LE(4) !== 0) {
        this.stats.droppedForeign++;
        continue;
      }
      if (got.length > this.#buf.length) {
        this.stats.droppedDecode++;
        continue;
      }
      let msgs: NetlinkMessage[];
      try {
        // Copy: the receive buffer is reused, and replies/notifications outlive this call.
        msgs = decodeMessages(Buffer.from(this.#buf.subarray(0, got.length)));
      } catch {
        this.stats.droppedDecode++;
        continue;
      }
      for (const msg of msgs) this.#dispatch(msg);
    }
  }

  #dispatch(msg: NetlinkMessage): void {
    const pending = msg.pid === this.portId ? this.#pending.get(msg.seq) : undefined;
    if (pending !== undefined) {
      if (msg.type === NLMSG_ERROR) {
        this.#finishWithAck(msg, pending);
        return;
      }
      if (msg.type === NLMSG_DONE && pending.dump) {
        this.#finishDump(msg, pending);
        return;
      }
      const isReply = pending.dump ? (msg.flags & NLM_F_MULTI) !== 0 : pending.collects;
      if (isReply) {
        if ((msg.flags & NLM_F_DUMP_INTR) !== 0) pending.interrupted = true;
        pending.replies.push(msg);
        return;
      }
      // Same seq and port but not a reply: the notification our own change caused.
    }
    if (msg.type === NLMSG_ERROR || msg.type === NLMSG_DONE || msg.type === NLMSG_OVERRUN || msg.type < 16) {
      // A late answer to a request that timed out, or a control message: nothing waits for it.
      this.stats.droppedStray++;
      return;
    }
    this.stats.notifications++;
    this.#onNotification?.(msg);
  }

  #finishWithAck(msg: NetlinkMessage, pending: Pending): void {
    this.#settle(msg.seq, pending);
    let ack: ReturnType<typeof decodeAck>;
    try {
      ack = decodeAck(msg);
    } catch (err) {
      pending.reject(new DsrError('E_NETLINK', 'the kernel answered with a malformed NLMSG_ERROR', {}, err));
      return;
    }
    if (ack.errno === 0) {
      pending.resolve(pending.replies);
      return;
    }
    pending.reject(ackError(pending.request.type, ack));
  }

  #finishDump(msg: NetlinkMessage, pending: Pending): void {
    this.#settle(msg.seq, pending);
    const error = msg.payload.length >= 4 ? msg.payload.readInt32LE(0) : 0;
    if (error < 0) {
      const name = errnoName(-error);
      pending.reject(
        new DsrError('E_NETLINK', `rtnetlink dump type ${pending.request.type} failed with ${name}`, {
          type: pending.request.type,
          errno: -error,
          errnoName: name,
        }),
      );
      return;
    }
    if (pending.interrupted) {
      if (pending.retries < DUMP_RETRIES) {
        pending.retries++;
        this.#send(pending);
        return;
      }
      pending.reject(
        new DsrError('E_NETLINK', `rtnetlink dump type ${pending.request.type} kept changing; retried`, {
          retries: pending.retries,
        }),
      );
      return;
    }
    pending.resolve(pending.replies);
  }

  #failAll(err: unknown): void {
    for (const [seq, pending] of this.#pending) {
      this.#settle(seq, pending);
      pending.reject(new DsrError('E_NETLINK', 'the rtnetlink socket failed', {}, err));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.close();
    closeFd(this.#fd);
    this.#failAll(new DsrError('E_NETLINK', 'the rtnetlink socket was closed', {}));
  }
}

function setReceiveBuffer(fd: number, bytes: number): void {
  // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN, which the daemon has anyway.
  try {
    setSocketOptionInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes);
  } catch {
    setSocketOptionInt(fd, SOL_SOCKET, SO_RCVBUF, bytes);
  }
}
