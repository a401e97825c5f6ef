/**
 * What one admin command is in the catalogue (commands.ts): its name, one line for the `commands`
 * listing, the zod schema of its arguments, and, as types only, the result it answers with and the
 * progress events it may send before that. The daemon registers a handler for an entry
 * (CommandRegistry.handle), dsrctl calls it by name (AdminClient.call): both see the same types.
 */
import type { z } from 'zod';

export interface AdminCommand<
  Name extends string = string,
  Args extends z.ZodType = z.ZodType,
  Result = unknown,
  Progress = unknown,
> {
  /** Dotted lowercase name, e.g. "config.reload". */
  readonly name: Name;
  readonly summary: string;
  /** z.object({...}).strict(), so unknown arguments are refused. */
  readonly args: Args;
  /** Types only, never set: what the command answers with, and its progress events. */
  readonly result?: Result;
  readonly progress?: Progress;
}

/**
 * Declares a command answering with Result, sending Progress events meanwhile (never: none):
 * `command<DrainEntry, DrainProgress>()({ name: 'drain', summary, args })`. The two calls let
 * TypeScript take the name and schema from the object while the result types are given.
 */
export function command<Result, Progress = never>() {
  return <const Name extends string, Args extends z.ZodType>(entry: {
    name: Name;
    summary: string;
    args: Args;
  }): AdminCommand<Name, Args, Result, Progress> => entry;
}

/** The arguments as a caller sends them (defaults may be left out). */
export type CallArgs<C extends AdminCommand> = z.input<C['args']>;
/** The arguments as the handler gets them, checked and with the defaults filled in. */
export type HandlerArgs<C extends AdminCommand> = z.output<C['args']>;
export type CommandResult<C extends AdminCommand> =
  C extends AdminCommand<string, z.ZodType, infer R, unknown> ? R : never;
export type CommandProgress<C extends AdminCommand> =
  C extends AdminCommand<string, z.ZodType, unknown, infer P> ? P : never;

/** One line of the `commands` listing. */
export interface CommandInfo {
  name: string;
  summary: string;
}
