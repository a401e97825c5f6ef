/**
 * The manual pages the package installs (scripts/package.ts): dsrctl(1) from its command tree and
 * dsrd(8) from its options, so they say what the programs do.
 */
import { COMMANDS } from '../cli/commands/index.ts';
import { dsrctlManPage } from '../cli/man-page.ts';
import { dsrctlProgram } from '../cli/program.ts';
import { dsrdManPage } from '../daemon/usage.ts';

export function manPages(o: { version: string; date: string }): { path: string; text: string }[] {
  // No environment: the page names the default socket, not the one of the machine it is built on.
  const { program } = dsrctlProgram({ io: { out: () => {}, err: () => {} }, env: {}, commands: COMMANDS });
  return [
    { path: 'man1/dsrctl.1', text: dsrctlManPage(program, o) },
    { path: 'man8/dsrd.8', text: dsrdManPage(o) },
  ];
}
