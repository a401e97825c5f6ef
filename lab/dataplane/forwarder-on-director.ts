/**
 * Runs dsr-director's XDP program on a lab director (forwarder-worker.ts
 * inside its namespace) with one UDP service on the VIP spread over the
 * given real servers. The returned function detaches it.
 */
import { fileURLToPath } from 'node:url';
import type { Host, Lab } from '../index.ts';

const worker = fileURLToPath(new URL('./forwarder-worker.ts', import.meta.url));

export async function startForwarderOnDirector(
  lab: Lab,
  opts: { director: Host; reals: readonly Host[]; vip: string; port: number },
): Promise<() => Promise<void>> {
  const args = [
    '--vip',
    opts.vip,
    '--port',
    String(opts.port),
    '--proto',
    'udp',
    '--ifname',
    opts.director.ifname,
  ];
  for (const r of opts.reals) args.push('--real', `${r.ipv4}=${r.mac}`);
  const p = lab.node(opts.director, worker, [...args, '--max-seconds', '300']);
  try {
    await p.waitForLine(/^READY/, 20_000);
  } catch (e) {
    await p.stop();
    throw e;
  }
  return async () => {
    await p.stop();
  };
}
