/**
 * The dsrctl program: global options, error handling and exit codes. Each command lives in its
 * own module under cli/commands/ and is listed in cli/commands/index.ts. It talks to the daemon
 * only through the admin catalogue (admin/catalogue/): command names, arguments and results.
 */
import { Command, CommanderError } from 'commander';
import type { ArgsOf, CommandName, ProgressOf, ResultOf } from '../admin/catalogue/commands.ts';
import { callDaemon } from '../admin/client.ts';
import { DEFAULT_ADMIN_SOCKET } from '../admin/server.ts';
import { DsrError } from '../core/errors.ts';
import { type CliIo, EXIT_FAILED, EXIT_OK, EXIT_USAGE, exitCodeFor } from '../core/exit.ts';
import { productVersion } from '../core/version.ts';

export interface CliContext {
  io: CliIo;
  /** The admin socket path (--socket, else $DSRCTL_SOCKET, else the default). */
  socket(): string;
  /** Runs one admin command of the catalogue on the daemon. */
  call<N extends CommandName>(
    cmd: N,
    args: ArgsOf<N>,
    onEvent?: (event: ProgressOf<N>) => void,
  ): Promise<ResultOf<N>>;
  /** Prints `value` as JSON, or `text()` for people. */
  print(json: boolean, value: unknown, text: () => string): void;
  /** Sets the exit status without throwing (e.g. a check that found problems). */
  setExit(code: number): void;
}

export type CommandModule = (program: Command, ctx: CliContext) => void;

export interface RunOptions {
  io: CliIo;
  env?: Record<string, string | undefined>;
  commands: readonly CommandModule[];
}

function errorText(err: unknown): string {
  if (err instanceof DsrError) return err.message;
  return `E_INTERNAL: ${err instanceof Error ? err.message : String(err)}`;
}

/** What a run of the program decided besides its output: the exit status and the error format. */
interface RunState {
  exitCode: number;
  jsonErrors: boolean;
}

/** The whole dsrctl command tree, as runCli runs it and as its man page describes it (cli/man-page.ts). */
export function dsrctlProgram(options: RunOptions): { program: Command; state: RunState } {
  const { io } = options;
  const env = options.env ?? process.env;
  const state: RunState = { exitCode: EXIT_OK, jsonErrors: false };

  const program = new Command('dsrctl')
    .description('Operate a dsr-director daemon (dsrd) and check real servers.')
    .version(`dsrctl ${productVersion()}`, '-v, --version', 'print the version')
    .option('-s, --socket <path>', 'admin socket of the daemon', env.DSRCTL_SOCKET ?? DEFAULT_ADMIN_SOCKET)
    .showHelpAfterError('(run dsrctl --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  program.hook('preAction', (_root, action) => {
    state.jsonErrors = action.opts().json === true;
  });

  const ctx: CliContext = {
    io,
    socket: () => program.opts().socket as string,
    call: (cmd, args, onEvent) => callDaemon(ctx.socket(), cmd, args, { onEvent }),
    print: (json, value, text) => io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text()),
    setExit: (code) => {
      state.exitCode = code;
    },
  };
  for (const add of options.commands) add(program, ctx);
  // Subcommands inherit the output and exit handling of the root.
  const configure = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub
        .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
        .exitOverride()
        .showHelpAfterError(`(run dsrctl ${sub.name()} --help for usage)`);
      configure(sub);
    }
  };
  configure(program);
  return { program, state };
}

/** Runs dsrctl with `argv` (without "node dsrctl"); resolves with the exit status. */
export async function runCli(argv: readonly string[], options: RunOptions): Promise<number> {
  const { io } = options;
  const { program, state } = dsrctlProgram(options);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help') return EXIT_USAGE;
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const code = exitCodeFor(err);
    if (state.jsonErrors && err instanceof DsrError) {
      io.out(`${JSON.stringify({ ok: false, error: err.toJSON() }, null, 2)}\n`);
    }
    io.err(`dsrctl: ${errorText(err)}\n`);
    return code === EXIT_OK ? EXIT_FAILED : code;
  }
}
