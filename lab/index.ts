export { assertLabAddress, DEFAULT_VIP4, DEFAULT_VIP6, isLabAddress } from './addresses.ts';
export { run, runIn } from './exec.ts';
export { type ProbeResult, probe } from './probe.ts';
export { LabProcess } from './process.ts';
export { requireRoot } from './require-root.ts';
export { listLabNamespaces, sweepLabs } from './sweep.ts';
export { createLab, type Host, Lab, type LabOptions, startRealServerServices } from './topology.ts';
