/**
 * Stand-in for the daemon's forwarder part, run inside a lab director's
 * namespace: Forwarder.start (restore pins, apply the desired state, attach
 * XDP to the interface) and report. On SIGTERM: print the counters, then stop
 * for a restart (keepOnExit: stay attached, keep the pins) or for good.
 *
 *   director.ts '<json: {ifname, pinDir, desired, keepOnExit?}>'
 * stdout: {"ready":true,"mode":"native","restored":N} then, at exit, {"stats":{...}}
 */
import { Forwarder } from '../../../forwarder/forwarder.ts';
import type { DesiredState } from '../../../forwarder/reconciler.ts';

const cfg = JSON.parse(process.argv[2] ?? '{}') as {
  ifname: string;
  pinDir: string;
  desired: DesiredState;
  keepOnExit?: boolean;
};

let fwd: Forwarder;
try {
  fwd = Forwarder.start({ ifname: cfg.ifname, desired: cfg.desired, pinDir: cfg.pinDir, connEntries: 65536 });
} catch (e) {
  console.log(JSON.stringify({ ready: false, error: (e as Error).message }));
  process.exit(1);
}
console.log(JSON.stringify({ ready: true, mode: fwd.mode, restored: fwd.loaded.restored.length }));

const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  clearInterval(keepAlive);
  const status = fwd.status();
  const reasons = Object.fromEntries(Object.entries(status.reasons).map(([k, v]) => [k, Number(v.packets)]));
  const services = status.services.map((s) => ({
    service: s.service,
    packets: Number(s.traffic.packets),
    reals: s.reals.map((r) => ({ address: r.address, packets: Number(r.traffic.packets) })),
  }));
  console.log(JSON.stringify({ stats: { reasons, services, conns: fwd.tables.countConns() } }));
  fwd.stop(cfg.keepOnExit ? { restart: true } : { restart: false, removePins: true });
  process.exit(0);
});
