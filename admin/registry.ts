/**
 * The admin command registry: every part of the daemon plugs its commands in here, each one an
 * entry of the catalogue (catalogue/commands.ts) answered through handle(). A command names its
 * arguments with a zod schema, so bad arguments are refused with a clear message before the
 * handler runs.
 */
import type { z } from 'zod';
import { DsrError } from '../core/errors.ts';
import type {
  AdminCommand,
  CommandInfo,
  CommandProgress,
  CommandResult,
  HandlerArgs,
} from './catalogue/entry.ts';
import {
  type AdminRequest,
  type AdminResponse,
  errorResponse,
  isCommandName,
  okResponse,
} from './protocol.ts';

export interface CommandContext<Progress = unknown> {
  /** Sends a progress event to the caller before the final response (long commands, e.g. drain --wait). */
  progress(event: Progress): void;
  /** Aborted when the caller disconnects or the daemon stops. */
  signal: AbortSignal;
}

export interface CommandSpec<A = unknown> {
  /** Dotted lowercase name, e.g. "config.reload". */
  name: string;
  /** One line for `dsrctl` help and the `commands` listing. */
  summary: string;
  /** Schema of `args`; use z.object({...}).strict() so unknown arguments are errors. */
  args: z.ZodType<A>;
  run(args: A, ctx: CommandContext): unknown | Promise<unknown>;
}

/** A handler of catalogue command C: it must answer with C's result type. */
export type CommandHandler<C extends AdminCommand> = (
  args: HandlerArgs<C>,
  ctx: CommandContext<CommandProgress<C>>,
) => CommandResult<C> | Promise<CommandResult<C>>;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length === 0 ? 'args' : `args.${issue.path.map(String).join('.')}`;
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

export class CommandRegistry {
  readonly #commands = new Map<string, CommandSpec<never>>();

  /** Answers a catalogue command; returns the function that removes it again (for a part that stops). */
  handle<C extends AdminCommand>(command: C, run: NoInfer<CommandHandler<C>>): () => void {
    const { name, summary } = command;
    // What the schema parses to is HandlerArgs<C> by definition; TypeScript cannot see it for a generic C.
    const args = command.args as z.ZodType<HandlerArgs<C>>;
    return this.register({ name, summary, args, run });
  }

  /** Adds any command (tests use their own); handle() is the way for the catalogue's. */
  register<A>(spec: CommandSpec<A>): () => void {
    if (!isCommandName(spec.name)) {
      throw new DsrError('E_INTERNAL', `admin command name "${spec.name}" is not a dotted lowercase name`);
    }
    if (this.#commands.has(spec.name)) {
      throw new DsrError('E_INTERNAL', `admin command "${spec.name}" is registered twice`, {
        name: spec.name,
      });
    }
    const stored = spec as unknown as CommandSpec<never>;
    this.#commands.set(spec.name, stored);
    return () => {
      if (this.#commands.get(spec.name) === stored) this.#commands.delete(spec.name);
    };
  }

  has(name: string): boolean {
    return this.#commands.has(name);
  }

  list(): CommandInfo[] {
    return [...this.#commands.values()]
      .map((c) => ({ name: c.name, summary: c.summary }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Runs one request; every failure becomes an error response, nothing is thrown. */
  async dispatch(request: AdminRequest, ctx: CommandContext): Promise<AdminResponse> {
    const spec = this.#commands.get(request.cmd) as CommandSpec<unknown> | undefined;
    if (spec === undefined) {
      return errorResponse(
        request.id,
        new DsrError(
          'E_ADMIN_REQUEST',
          `unknown command "${request.cmd}" (this daemon offers: ${this.names()})`,
          {
            cmd: request.cmd,
          },
        ),
      );
    }
    const parsed = spec.args.safeParse(request.args);
    if (!parsed.success) {
      return errorResponse(
        request.id,
        new DsrError(
          'E_ADMIN_REQUEST',
          `bad arguments for "${request.cmd}": ${describeIssues(parsed.error)}`,
          {
            cmd: request.cmd,
          },
        ),
      );
    }
    try {
      return okResponse(request.id, await spec.run(parsed.data, ctx));
    } catch (err) {
      return errorResponse(request.id, err);
    }
  }

  names(): string {
    return [...this.#commands.keys()].sort().join(', ');
  }
}
