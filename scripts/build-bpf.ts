/**
 * `npm run build`: builds the BPF programs in forwarder/bpf/ into build/bpf/ (forwarder/bpf-build.ts).
 *   node scripts/build-bpf.ts [--force]
 */
import { buildBpf } from '../forwarder/bpf-build.ts';

const built = buildBpf({ force: process.argv.includes('--force') });
console.log(built.length ? `built ${built.length} BPF object(s)` : 'BPF objects up to date');
