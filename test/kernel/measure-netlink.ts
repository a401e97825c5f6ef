/**
 * Measurements behind two decisions of the kernel-effect drivers (root; run by hand):
 *
 *   node test/kernel/measure-netlink.ts [--n 300]
 *
 * 1. Address add (and remove) through rtnetlink over FFI vs spawning `ip addr add` (what a
 *    script-driven director would do): time per operation.
 * 2. Driving a netlink socket from the event loop: libuv poll on the fd (koffi.node.poll) vs a
 *    1 ms timer loop of non-blocking reads: request round-trip latency, and CPU burnt while idle.
 *
 * Everything happens in a throw-away `dsrl` namespace, on its loopback, with 198.18.0.0/15 only.
 * Prints a table, then one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  AF_NETLINK,
  bindSocket,
  closeFd,
  openSocket,
  recvFrom,
  SOCK_RAW,
  sendTo,
} from '../../core/kernel/libc.ts';
import { encodeAddressAdd, encodeAddressRemove } from '../../core/netlink/address-codec.ts';
import { RtnlAddressManager } from '../../core/netlink/address-manager.ts';
import { NETLINK_ROUTE, NLMSG_ERROR } from '../../core/netlink/constants.ts';
import { decodeMessages, encodeMessage } from '../../core/netlink/message.ts';
import { NetlinkSocket } from '../../core/netlink/socket.ts';
import { sleep } from '../../lab/wait.ts';
import { inNamespace, nsName } from './netns.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '300' } } });
const N = Number(values.n);

function stats(samples: number[]): { median: number; p95: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

const ns = nsName('meas');
execFileSync('ip', ['netns', 'add', ns]);
try {
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const { mgr, raw } = inNamespace(ns, () => ({ mgr: new RtnlAddressManager(), raw: new NetlinkSocket() }));
  const lo = 1;

  // 1a. FFI rtnetlink: add then remove, one at a time, awaited (as the VIP owner does).
  const ffiAdd: number[] = [];
  const ffiDel: number[] = [];
  for (let i = 0; i < N; i++) {
    const a = `198.18.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
    let t0 = performance.now();
    await mgr.add(lo, a, 32);
    ffiAdd.push(performance.now() - t0);
    t0 = performance.now();
    await mgr.remove(lo, a, 32);
    ffiDel.push(performance.now() - t0);
  }

  // 1b. Spawning iproute2.
  const ipAdd: number[] = [];
  const ipDel: number[] = [];
  const spawnN = Math.min(N, 60);
  for (let i = 0; i < spawnN; i++) {
    const a = `198.18.110.${i + 1}/32`;
    let t0 = performance.now();
    execFileSync('ip', ['-n', ns, 'addr', 'add', a, 'dev', 'lo']);
    ipAdd.push(performance.now() - t0);
    t0 = performance.now();
    execFileSync('ip', ['-n', ns, 'addr', 'del', a, 'dev', 'lo']);
    ipDel.push(performance.now() - t0);
  }

  // 2a. Round trip of a request on the poll-driven socket (an add that fails with EEXIST-free
  // idempotence is not needed: a plain add/remove pair, timed per request).
  const pollRtt: number[] = [];
  for (let i = 0; i < N; i++) {
    const spec = { ifindex: lo, address: '198.18.120.1', prefixLength: 32 };
    const t0 = performance.now();
    await raw.request(encodeAddressAdd(spec));
    pollRtt.push(performance.now() - t0);
    await raw.request(encodeAddressRemove(spec));
  }

  // 2b. The alternative: a non-blocking socket read by a 1 ms timer loop.
  const fd = inNamespace(ns, () => openSocket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
  const sa = Buffer.alloc(12);
  sa.writeUInt16LE(AF_NETLINK, 0);
  bindSocket(fd, sa);
  const buf = Buffer.alloc(65536);
  const timerRequest = (req: { type: number; flags: number; payload: Buffer }, seq: number): Promise<void> =>
    new Promise((resolve) => {
      sendTo(fd, encodeMessage({ type: req.type, flags: req.flags, seq, pid: 0 }, req.payload), sa);
      const poll = () => {
        const got = recvFrom(fd, buf, 12);
        if (
          got !== undefined &&
          decodeMessages(buf.subarray(0, got.length)).some((m) => m.type === NLMSG_ERROR)
        ) {
          resolve();
          return;
        }
        setTimeout(poll, 1);
      };
      setTimeout(poll, 1);
    });
  const timerRtt: number[] = [];
  const timerN = Math.min(N, 100);
  for (let i = 0; i < timerN; i++) {
    const spec = { ifindex: lo, address: '198.18.120.2', prefixLength: 32 };
    const t0 = performance.now();
    await timerRequest(encodeAddressAdd(spec), 2 * i + 1);
    timerRtt.push(performance.now() - t0);
    await timerRequest(encodeAddressRemove(spec), 2 * i + 2);
  }

  // 2c. CPU while idle for 2 s: the poll-driven sockets above are open and idle; then the same
  // 2 s with a 1 ms read loop running on the raw fd.
  const idle = async (withLoop: boolean): Promise<number> => {
    const c0 = process.cpuUsage();
    const h = withLoop ? setInterval(() => recvFrom(fd, buf, 12), 1) : undefined;
    await sleep(2000);
    if (h !== undefined) clearInterval(h);
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / 2000; // fraction of one core
  };
  const idlePoll = await idle(false);
  const idleTimer = await idle(true);
  closeFd(fd);
  mgr.close();
  raw.close();

  const rows = [
    ['address add, FFI rtnetlink', stats(ffiAdd)],
    ['address remove, FFI rtnetlink', stats(ffiDel)],
    ['address add, spawn `ip`', stats(ipAdd)],
    ['address remove, spawn `ip`', stats(ipDel)],
    ['request RTT, libuv poll', stats(pollRtt)],
    ['request RTT, 1 ms timer loop', stats(timerRtt)],
  ] as const;
  console.log(`${'operation'.padEnd(34)} ${'median ms'.padStart(10)} ${'p95 ms'.padStart(10)}`);
  for (const [name, s] of rows) {
    console.log(`${name.padEnd(34)} ${s.median.toFixed(3).padStart(10)} ${s.p95.toFixed(3).padStart(10)}`);
  }
  console.log(
    `idle CPU (share of a core): poll ${(idlePoll * 100).toFixed(2)}%, 1 ms timer loop ${(idleTimer * 100).toFixed(2)}%`,
  );
  const r = (x: number) => Math.round(x * 1000) / 1000;
  console.log(
    JSON.stringify({
      ffi_add_ms: r(stats(ffiAdd).median),
      ffi_remove_ms: r(stats(ffiDel).median),
      ip_add_ms: r(stats(ipAdd).median),
      ip_remove_ms: r(stats(ipDel).median),
      add_speedup: r(stats(ipAdd).median / stats(ffiAdd).median),
      poll_rtt_ms: r(stats(pollRtt).median),
      timer_loop_rtt_ms: r(stats(timerRtt).median),
      idle_cpu_poll: r(idlePoll),
      idle_cpu_timer_loop: r(idleTimer),
      n: N,
    }),
  );
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
}
