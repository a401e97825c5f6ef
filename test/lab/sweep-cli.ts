/** `npm run lab:sweep`: removes lab namespaces left behind by crashed runs. */
import { sweepLabs } from './sweep.ts';

const removed = sweepLabs();
console.log(
  removed.length
    ? `removed ${removed.length} namespace(s): ${removed.join(' ')}`
    : 'no leftover lab namespaces',
);
