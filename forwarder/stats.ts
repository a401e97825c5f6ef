/**
 * Reads the per-CPU counters (summed over CPUs): per service, per real
 * server, and per pass/drop/special-path reason.
 */
import type { BpfMap } from './bpf-map.ts';
import { u32Key } from './bpf-map.ts';
import { decodeTrafficPerCpu, REASONS, type Reason, type Traffic } from './layout.ts';
import { libbpf } from './libbpf.ts';

export class ForwarderStats {
  private readonly maps: { svc_stats: BpfMap; real_stats: BpfMap; reason_stats: BpfMap };
  private readonly cpus = libbpf.numPossibleCpus();

  constructor(maps: { svc_stats: BpfMap; real_stats: BpfMap; reason_stats: BpfMap }) {
    this.maps = maps;
  }

  private read(map: BpfMap, index: number): Traffic {
    const v = map.lookup(u32Key(index));
    return v ? decodeTrafficPerCpu(v, this.cpus) : { packets: 0n, bytes: 0n, flows: 0n };
  }

  service(svcId: number): Traffic {
    return this.read(this.maps.svc_stats, svcId);
  }

  real(realId: number): Traffic {
    return this.read(this.maps.real_stats, realId);
  }

  reasons(): Record<Reason, Traffic> {
    const out = {} as Record<Reason, Traffic>;
    for (const [name, index] of Object.entries(REASONS) as Array<[Reason, number]>) {
      out[name] = this.read(this.maps.reason_stats, index);
    }
    return out;
  }
}
