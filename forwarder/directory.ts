/**
 * What the ids in the tables name, as plain data another thread can hold: every service (its key,
 * generation, persistence settings) and every real server (its service, address, generation), with
 * the timeouts in force. The reconciler makes it (Reconciler.directory()); the sync's thread looks
 * ids up in it to turn table entries and ring events into sync entries, and back.
 */
import { connTimeout } from './conn-state.ts';
import type { ForwarderConfig, SvcKey } from './layout.ts';

export interface DirectoryService {
  id: number;
  gen: number;
  key: SvcKey;
  flags: number;
  mask: Uint8Array;
  persistTimeoutNs: bigint;
}

export interface DirectoryReal {
  id: number;
  gen: number;
  svcId: number;
  family: 4 | 6;
  /** 16 bytes, IPv4 in the first 4 (the map form). */
  addr: Uint8Array;
}

export interface DirectoryData {
  config: ForwarderConfig;
  services: DirectoryService[];
  reals: DirectoryReal[];
}

/** Key of a service by its VIP bytes (4 or 16), port and protocol. */
const serviceKey = (vip: Uint8Array, port: number, proto: number): string =>
  `${proto}/${port}/${Buffer.from(vip.subarray(0, vip.length === 4 ? 4 : 16)).toString('hex')}`;

export class Directory {
  readonly config: ForwarderConfig;
  readonly #services = new Map<number, DirectoryService>();
  readonly #reals = new Map<number, DirectoryReal>();
  readonly #byKey = new Map<string, DirectoryService>();
  /** `${svcId}/${address hex}` → real. */
  readonly #realByAddress = new Map<string, DirectoryReal>();

  constructor(data: DirectoryData) {
    this.config = data.config;
    for (const s of data.services) {
      this.#services.set(s.id, s);
      this.#byKey.set(
        serviceKey(s.key.family === 4 ? s.key.vip.subarray(0, 4) : s.key.vip, s.key.port, s.key.proto),
        s,
      );
    }
    for (const r of data.reals) {
      this.#reals.set(r.id, r);
      this.#realByAddress.set(
        `${r.svcId}/${Buffer.from(r.addr.subarray(0, r.family === 4 ? 4 : 16)).toString('hex')}`,
        r,
      );
    }
  }

  service(id: number): DirectoryService | undefined {
    return this.#services.get(id);
  }

  real(id: number): DirectoryReal | undefined {
    return this.#reals.get(id);
  }

  /** The service a packet to (VIP, port, proto) meets: the port's own, else the VIP's port-0 service. */
  serviceFor(vip: Uint8Array, port: number, proto: number): DirectoryService | undefined {
    return this.#byKey.get(serviceKey(vip, port, proto)) ?? this.#byKey.get(serviceKey(vip, 0, proto));
  }

  /** A real server of a service by its address (4 or 16 bytes). */
  realIn(svcId: number, address: Uint8Array): DirectoryReal | undefined {
    return this.#realByAddress.get(`${svcId}/${Buffer.from(address).toString('hex')}`);
  }

  connTimeoutNs(state: number): bigint {
    return connTimeout(this.config, state);
  }
}
