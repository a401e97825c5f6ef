/**
 * Stand-in for the daemon's forwarder part, run inside a lab director's
 * namespace: load the forwarder (pinned under a per-test pin dir), apply the
 * desired state, attach XDP to the interface and report. On SIGTERM: print
 * the counters, detach, remove the pins.
 *
 *   director.ts '<json: {ifname, pinDir, desired, keepOnExit?}>'
 * stdout: {"ready":true,"mode":"native","restored":N} then, at exit, {"stats":{...}}
 * With keepOnExit the program stays attached and the pins stay, as for a
 * daemon restart: the next run restores them.
 */
import { createForwarderInstance } from '../../../forwarder/harness.ts';
import { libbpf } from '../../../forwarder/libbpf.ts';
import type { DesiredState } from '../../../forwarder/reconciler.ts';

const cfg = JSON.parse(process.argv[2] ?? '{}') as {
  ifname: string;
  pinDir: string;
  desired: DesiredState;
  keepOnExit?: boolean;
};
const ifindex = libbpf.ifIndex(cfg.ifname);
if (ifindex === 0) {
  console.log(JSON.stringify({ ready: false, error: `no interface ${cfg.ifname}` }));
  process.exit(1);
}
const fwd = createForwarderInstance({
  desired: cfg.desired,
  load: { pinDir: cfg.pinDir, connEntries: 65536 },
});
let mode: string;
try {
  mode = fwd.loaded.attach(ifindex);
} catch (e) {
  fwd.destroy();
  console.log(JSON.stringify({ ready: false, error: (e as Error).message }));
  process.exit(1);
}
console.log(JSON.stringify({ ready: true, mode, restored: fwd.loaded.restored.length }));

const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  const reasons = Object.fromEntries(
    Object.entries(fwd.stats.reasons()).map(([k, v]) => [k, Number(v.packets)]),
  );
  const services = fwd.reconciler.status().map((s) => ({
    service: s.service,
    packets: Number(fwd.stats.service(s.id).packets),
    reals: s.reals.map((r) => ({ address: r.address, packets: Number(fwd.stats.real(r.id).packets) })),
  }));
  console.log(JSON.stringify({ stats: { reasons, services, conns: fwd.tables.countConns() } }));
  if (cfg.keepOnExit) {
    fwd.close();
  } else {
    try {
      fwd.loaded.detach(ifindex);
    } finally {
      fwd.destroy();
    }
  }
  process.exit(0);
});
