/**
 * Run inside a namespace that has interface `dsrfa` (BPF_PROG_TEST_RUN sees
 * the caller's namespace: frames "arrive" on its lo). Checks the devmap path:
 * a real server behind dsrfa gets XDP_REDIRECT with that interface's MAC as
 * source; the same with its devmap entry gone is a counted drop. Prints JSON.
 */
import { formatMac } from '../../../core/net/mac.ts';
import { buildFrame, TCP_SYN } from '../../../forwarder/frames.ts';
import { createForwarderInstance } from '../../../forwarder/harness.ts';
import { libbpf } from '../../../forwarder/libbpf.ts';

const ifindex = libbpf.ifIndex('dsrfa');
const fwd = createForwarderInstance({
  desired: {
    directorMac: '02:d5:00:00:00:01',
    egressMacs: { [ifindex]: '02:d5:00:00:0a:0a' },
    services: [
      {
        vip: '198.18.0.200',
        protocol: 'tcp',
        port: 80,
        reals: [{ address: '198.18.0.100', weight: 1, mac: '02:d5:00:00:10:01', ifindex }],
      },
    ],
  },
  load: { connEntries: 4096 },
});
try {
  const frame = buildFrame({
    srcMac: '02:d5:00:00:00:02',
    dstMac: '02:d5:00:00:00:01',
    src: '198.18.1.10',
    dst: '198.18.0.200',
    proto: 'tcp',
    sport: 40000,
    dport: 80,
    tcpFlags: TCP_SYN,
  });
  const r = fwd.run(frame);
  const devices = fwd.store.listTxDevices();
  fwd.store.deleteTxDevice(ifindex);
  const gone = fwd.run(frame);
  const reasons = fwd.stats.reasons();
  console.log(
    JSON.stringify({
      ifindex,
      devices,
      verdict: r.verdict,
      dst: formatMac(r.frame.subarray(0, 6)),
      src: formatMac(r.frame.subarray(6, 12)),
      rest: Buffer.from(r.frame.subarray(12)).equals(Buffer.from(frame.subarray(12))),
      goneVerdict: gone.verdict,
      txRedirect: Number(reasons.tx_redirect.packets),
      dropTxDevice: Number(reasons.drop_tx_device.packets),
    }),
  );
} finally {
  fwd.destroy();
}
