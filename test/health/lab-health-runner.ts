/**
 * Runs a HealthEngine with the real checkers inside a lab namespace (a director) and prints every
 * health event as one JSON line, so a lab test can watch it. "READY" once started.
 *
 * Usage: lab-health-runner.ts '<HealthSpec as JSON>'
 * Stops on SIGTERM, aborting the checks in flight. Event `at` fields are wall-clock ms, comparable
 * with the test's own Date.now() (same machine).
 */
import { HealthEngine } from '../../health/engine.ts';
import type { HealthSpec } from '../../health/health-spec.ts';

const spec = JSON.parse(process.argv[2] ?? '') as HealthSpec;
const part = new HealthEngine(spec, { remainingFlows: () => ({ open: 0, closing: 0 }) });
part.on('event', (e) => {
  process.stdout.write(`${JSON.stringify(e)}\n`);
});
part.start();
process.stdout.write('READY\n');
process.once('SIGTERM', () => {
  void part.stop().then(() => process.exit(0));
});
