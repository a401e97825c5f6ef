/**
 * `npm run lab:sweep`: removes lab namespaces left behind by crashed runs.
 * `--check`: lists namespaces no live process owns and exits 1 if there are any (the test suite's
 * last check: labs of other, still running processes are not counted).
 */
import { sweepLabs, unownedLabNamespaces } from './sweep.ts';

if (process.argv.includes('--check')) {
  const left = unownedLabNamespaces();
  for (const ns of left) console.log(ns);
  process.exit(left.length ? 1 : 0);
}
const removed = sweepLabs();
console.log(
  removed.length
    ? `removed ${removed.length} namespace(s): ${removed.join(' ')}`
    : 'no leftover lab namespaces',
);
