/**
 * Service-level health, pure: from the health of each real server, the drain state and the
 * configured weights, decide whether the service is up (quorum), which backends get new flows and
 * with what weight (the forwarder's input), and whether the sorry server takes over.
 *
 * - A real server's health is the worst of its checks' (down > unknown > up); with no check it is
 *   always up (like keepalived: no checker, no verdict against it).
 * - Effective weight: 0 when the real server is not up, or is drained; otherwise the operator's
 *   override, else the configured weight. Unknown counts as not up: a real server gets new flows
 *   only once a check has said yes.
 * - Quorum: "healthy" counts real servers that would get new flows (up, not drained, weight > 0),
 *   because the quorum protects capacity. The service is down while healthy < minHealthy. With a
 *   hysteresis h, an up service goes down below minHealthy - h and a down one comes up at
 *   minHealthy + h (keepalived's quorum_up/quorum_down). Before every real server has a verdict,
 *   the service is 'unknown' unless the quorum is already met.
 * - Sorry server: while the service is down, new flows go to the sorry server only (the remaining
 *   real servers get weight 0). It is always listed last, weight 0 when inactive, so backend
 *   positions stay stable for the Maglev table.
 */
import type { Health } from './target-health.ts';

export interface ServiceRealServer {
  id: string;
  weight: number;
}

export interface ServiceHealthSpec {
  name: string;
  minHealthy: number;
  hysteresis: number;
  sorryServer: string | null;
  sorryWeight: number;
  realServers: ServiceRealServer[];
}

export interface ServiceInputs {
  /** Health of a real server in this service (already combined over its checks). */
  health(rs: string): Health;
  drained(rs: string): boolean;
  /** Configured weight after operator overrides and drains (drain-tracker weightFor). */
  weight(rs: string, configured: number): number;
}

export interface Backend {
  id: string;
  weight: number;
  health: Health;
  drained: boolean;
  sorry: boolean;
}

export interface ServiceView {
  name: string;
  status: Health;
  healthy: number;
  minHealthy: number;
  sorryActive: boolean;
  backends: Backend[];
}

export function combineHealth(values: Iterable<Health>): Health {
  let result: Health = 'up';
  for (const v of values) {
    if (v === 'down') return 'down';
    if (v === 'unknown') result = 'unknown';
  }
  return result;
}

function nextStatus(spec: ServiceHealthSpec, prev: Health, healthy: number, anyUnknown: boolean): Health {
  const { minHealthy: q, hysteresis: h } = spec;
  if (prev === 'up') return healthy >= q - h ? 'up' : 'down';
  if (prev === 'down') return healthy >= q + h ? 'up' : 'down';
  if (healthy >= q) return 'up';
  return anyUnknown ? 'unknown' : 'down';
}

export function evaluateService(spec: ServiceHealthSpec, prev: Health, inputs: ServiceInputs): ServiceView {
  const backends: Backend[] = [];
  let healthy = 0;
  let anyUnknown = false;
  for (const rs of spec.realServers) {
    const health = inputs.health(rs.id);
    const drained = inputs.drained(rs.id);
    const weight = health === 'up' && !drained ? inputs.weight(rs.id, rs.weight) : 0;
    if (health === 'unknown') anyUnknown = true;
    if (weight > 0) healthy++;
    backends.push({ id: rs.id, weight, health, drained, sorry: false });
  }
  const status = nextStatus(spec, prev, healthy, anyUnknown);
  const sorryActive = status === 'down' && spec.sorryServer !== null;
  if (sorryActive) for (const b of backends) b.weight = 0;
  if (spec.sorryServer !== null) {
    backends.push({
      id: spec.sorryServer,
      weight: sorryActive ? spec.sorryWeight : 0,
      health: 'unknown',
      drained: false,
      sorry: true,
    });
  }
  return { name: spec.name, status, healthy, minHealthy: spec.minHealthy, sorryActive, backends };
}

/** Why a service is down, for the service.down event and status. */
export function downReason(view: ServiceView): string {
  const total = view.backends.filter((b) => !b.sorry).length;
  const sorry = view.sorryActive ? '; new flows go to the sorry server' : '';
  return `${view.healthy} of ${total} real servers can take new flows, minimum ${view.minHealthy}${sorry}`;
}

/** True when the forwarder needs the new backends (a weight or the sorry state changed). */
export function backendsChanged(a: Backend[] | undefined, b: Backend[]): boolean {
  if (!a || a.length !== b.length) return true;
  return a.some((x, i) => x.id !== b[i].id || x.weight !== b[i].weight);
}
