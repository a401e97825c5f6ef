/**
 * Runs the MAC-swap floor on a lab director (floor-worker.ts inside its
 * namespace), sending every frame to one real server. The returned function
 * detaches it.
 */
import { fileURLToPath } from 'node:url';
import type { Host, Lab } from '../index.ts';

const worker = fileURLToPath(new URL('./floor-worker.ts', import.meta.url));

export async function startFloorOnDirector(
  lab: Lab,
  director: Host,
  real: Host,
): Promise<() => Promise<void>> {
  const p = lab.node(director, worker, [
    '--rs-mac',
    real.mac,
    '--ifname',
    director.ifname,
    '--max-seconds',
    '300',
  ]);
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
