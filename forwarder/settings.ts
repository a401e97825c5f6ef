/**
 * Forwarder settings in operator units (seconds) and their encoding into the
 * program's config map. Defaults follow IPVS (ip_vs_proto_tcp.c timeouts:
 * 60 s SYN_RECV, 900 s established, 120 s FIN_WAIT/CLOSE; 300 s UDP).
 */
import { DsrError } from '../core/errors.ts';
import { DSR, type ForwarderConfig } from './layout.ts';

export interface ForwarderSettings {
  tcpSynSec: number;
  tcpEstablishedSec: number;
  tcpClosingSec: number;
  udpSec: number;
  /** how long later fragments follow their first fragment (Linux ipfrag_time is 30 s) */
  fragmentSec: number;
  /** a hit rewrites last-seen only when it is this stale (keeps busy flows' cache lines clean) */
  touchSec: number;
  /**
   * Only a TCP SYN opens a connection entry; other TCP packets of flows without one are sent where
   * selection puts them, statelessly (flood hardening: docs/sync.md, "SYN-only entries").
   */
  synOnly: boolean;
  /** flow hash seed; must be identical on every director of a cluster */
  hashSeed: number;
}

export const DEFAULT_SETTINGS: ForwarderSettings = {
  tcpSynSec: 60,
  tcpEstablishedSec: 900,
  tcpClosingSec: 120,
  udpSec: 300,
  fragmentSec: 30,
  touchSec: 1,
  synOnly: true,
  hashSeed: 0x5eed_d5d1,
};

const NS = 1_000_000_000;

function ns(name: string, sec: number): bigint {
  if (!Number.isFinite(sec) || sec < 0 || sec > 365 * 86400) {
    throw new DsrError('E_FORWARDER_STATE', `${name} must be 0..31536000 seconds, got ${sec}`, { name, sec });
  }
  return BigInt(Math.round(sec * NS));
}

export function resolveSettings(partial: Partial<ForwarderSettings> = {}): ForwarderSettings {
  return { ...DEFAULT_SETTINGS, ...partial };
}

export function toForwarderConfig(s: ForwarderSettings): ForwarderConfig {
  if (!Number.isInteger(s.hashSeed) || s.hashSeed < 0 || s.hashSeed > 0xffffffff) {
    throw new DsrError('E_FORWARDER_STATE', `hashSeed must be a 32-bit unsigned integer, got ${s.hashSeed}`, {
      hashSeed: s.hashSeed,
    });
  }
  return {
    tcpSynTimeoutNs: ns('tcpSynSec', s.tcpSynSec),
    tcpEstTimeoutNs: ns('tcpEstablishedSec', s.tcpEstablishedSec),
    tcpFinTimeoutNs: ns('tcpClosingSec', s.tcpClosingSec),
    udpTimeoutNs: ns('udpSec', s.udpSec),
    fragTimeoutNs: ns('fragmentSec', s.fragmentSec),
    touchNs: ns('touchSec', s.touchSec),
    hashSeed: s.hashSeed,
    flags: s.synOnly ? DSR.CFG_F_SYN_ONLY : 0,
    // Per director, not a setting: the reconciler fills it in from the desired state.
    localMac: new Uint8Array(6),
  };
}
