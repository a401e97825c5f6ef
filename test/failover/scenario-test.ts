/** Registers an ava test that runs an election scenario and compares its transcript. */
import test from 'ava';
import { normalizeTranscript, runScenario } from './scenario-runner.ts';

export function scenario(title: string, script: string, expected: string): void {
  test(title, (t) => {
    const actual = runScenario(script);
    t.deepEqual(normalizeTranscript(actual), normalizeTranscript(expected), `actual transcript:\n${actual}`);
    t.false(actual.includes('FAILED'), 'an expect line failed');
  });
}
