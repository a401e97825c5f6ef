/** dsrctl entry point (bin/dsrctl.js imports this). */

import { processIo } from '../core/exit.ts';
import { COMMANDS } from './commands/index.ts';
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2), { io: processIo, commands: COMMANDS });
