/** Who holds a pair's VIP, sampled: the ownership lab tests' view from the directors' side. */
import { sleep } from '../wait.ts';
import type { DirectorPair } from './director-pair.ts';

/** Every 20 ms for `ms`: the longest time both directors held the VIP, and who holds it at the end. */
export async function sampleHolders(
  pair: DirectorPair,
  ms: number,
): Promise<{ bothMaxMs: number; last: string[] }> {
  let bothSince: number | null = null;
  let bothMaxMs = 0;
  let last: string[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const held = await Promise.all(pair.directors.map((d) => pair.holdsVip(d)));
    last = pair.directors.filter((_, i) => held[i]).map((d) => d.host.name);
    const now = performance.now();
    if (last.length === 2) {
      bothSince ??= now;
      bothMaxMs = Math.max(bothMaxMs, now - bothSince);
    } else bothSince = null;
    await sleep(20);
  }
  return { bothMaxMs, last };
}
