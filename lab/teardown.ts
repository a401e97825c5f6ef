/** Teardown that leaves nothing behind: every step runs, even after one fails. */

/** Runs `steps` in order, each whatever the others did; then throws the first failure, if any. */
export async function teardownSteps(steps: readonly (() => unknown)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      failures.push(e);
    }
  }
  if (failures.length > 0) throw failures[0];
}
