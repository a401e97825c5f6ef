/**
 * `npm run bench -- NAME [args]`: runs bench/NAME.ts as its own process with
 * the remaining arguments, after building the BPF objects. The benchmark
 * prints its table and, last, one JSON line (lab/report.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBpf } from '../forwarder/bpf-build.ts';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || !/^[a-z0-9-]+$/.test(name) || !existsSync(join(here, `${name}.ts`))) {
  process.stderr.write(
    `usage: npm run bench -- NAME [options]\n${name ? `unknown benchmark ${JSON.stringify(name)}\n` : ''}available: ${available.join(', ')}\n`,
  );
  process.exit(2);
}
buildBpf({ quiet: true });
const r = spawnSync(process.execPath, [join(here, `${name}.ts`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
