/**
 * The admin protocol between dsrctl (and anything else on the admin socket) and dsrd.
 *
 * Newline-delimited JSON, one object per line, UTF-8:
 *   request   {"v":1,"id":7,"cmd":"status","args":{}}
 *   response  {"v":1,"id":7,"ok":true,"result":{...}}
 *             {"v":1,"id":7,"ok":false,"error":{"code":"E_...","message":"...","context":{...}}}
 *   progress  {"v":1,"id":7,"event":{...}}   (zero or more before the response of a long command)
 *
 * Requests are answered in any order (match on id). A request the server cannot read gets a
 * response with id null when no id could be recovered. `v` is checked: a client speaking another
 * version gets an error naming both, never a guess.
 */
import { DsrError, type ErrorCode, ErrorCodes } from '../core/errors.ts';

export const ADMIN_PROTOCOL_VERSION = 1;
/** Longest accepted request line, newline excluded. */
export const MAX_REQUEST_BYTES = 64 * 1024;
export const MAX_ID_LENGTH = 128;
/** Command names: dotted lowercase words, e.g. "config.reload". */
const COMMAND_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

export type RequestId = string | number;

export interface AdminRequest {
  v: typeof ADMIN_PROTOCOL_VERSION;
  id: RequestId;
  cmd: string;
  args: Record<string, unknown>;
}

export interface AdminErrorBody {
  code: string;
  message: string;
  context: Record<string, unknown>;
}

export type AdminResponse =
  | { v: typeof ADMIN_PROTOCOL_VERSION; id: RequestId | null; ok: true; result: unknown }
  | { v: typeof ADMIN_PROTOCOL_VERSION; id: RequestId | null; ok: false; error: AdminErrorBody };

export interface AdminProgress {
  v: typeof ADMIN_PROTOCOL_VERSION;
  id: RequestId;
  event: unknown;
}

export type ParsedRequest = { ok: true; request: AdminRequest } | { ok: false; response: AdminResponse };

export function isCommandName(name: string): boolean {
  return name.length <= 64 && COMMAND_NAME.test(name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validId(id: unknown): id is RequestId {
  return (
    (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH) ||
    (typeof id === 'number' && Number.isSafeInteger(id))
  );
}

export function okResponse(id: RequestId | null, result: unknown): AdminResponse {
  return { v: ADMIN_PROTOCOL_VERSION, id, ok: true, result: result === undefined ? null : result };
}

/** The message of a DsrError without its "CODE: " prefix (the code travels in its own field). */
function bareMessage(err: DsrError): string {
  const prefix = `${err.code}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

export function errorBody(err: unknown): AdminErrorBody {
  if (err instanceof DsrError) return { code: err.code, message: bareMessage(err), context: err.context };
  // Anything else is a bug in a command handler: say so without leaking a stack trace.
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'E_INTERNAL', message: `internal error: ${message}`, context: {} } satisfies AdminErrorBody;
}

export function errorResponse(id: RequestId | null, err: unknown): AdminResponse {
  return { v: ADMIN_PROTOCOL_VERSION, id, ok: false, error: errorBody(err) };
}

function requestError(
  id: RequestId | null,
  message: string,
  context: Record<string, unknown> = {},
): ParsedRequest {
  return { ok: false, response: errorResponse(id, new DsrError('E_ADMIN_REQUEST', message, context)) };
}

/** Checks one request line (already split, without its newline). Never throws. */
export function parseRequest(line: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return requestError(null, `request is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(value)) return requestError(null, 'request must be a JSON object');
  const id = validId(value.id) ? value.id : null;
  if (id === null) {
    return requestError(
      null,
      `request needs an "id": a non-empty string (<= ${MAX_ID_LENGTH} chars) or an integer`,
    );
  }
  if (value.v !== ADMIN_PROTOCOL_VERSION) {
    return requestError(
      id,
      `protocol version ${JSON.stringify(value.v ?? null)} is not supported; this daemon speaks v1`,
      {
        supported: [ADMIN_PROTOCOL_VERSION],
        got: value.v ?? null,
      },
    );
  }
  for (const key of Object.keys(value)) {
    if (!['v', 'id', 'cmd', 'args'].includes(key)) {
      return requestError(id, `unknown request field "${key}"`, { field: key });
    }
  }
  if (typeof value.cmd !== 'string' || !isCommandName(value.cmd)) {
    return requestError(id, 'request needs a "cmd" naming a command (e.g. "status")');
  }
  const args = value.args ?? {};
  if (!isPlainObject(args)) return requestError(id, '"args" must be a JSON object', { cmd: value.cmd });
  return { ok: true, request: { v: ADMIN_PROTOCOL_VERSION, id, cmd: value.cmd, args } };
}

export function encodeLine(message: AdminRequest | AdminResponse | AdminProgress): string {
  return `${JSON.stringify(message)}\n`;
}

export type ServerMessage =
  | { kind: 'response'; response: AdminResponse }
  | { kind: 'progress'; progress: AdminProgress };

/** Client side: reads one line from the server. Throws DsrError on anything that is not ours. */
export function parseServerLine(line: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new DsrError('E_DECODE', 'the daemon sent a line that is not JSON', { line: line.slice(0, 200) });
  }
  if (!isPlainObject(value) || value.v !== ADMIN_PROTOCOL_VERSION) {
    throw new DsrError('E_DECODE', 'the daemon answered with another protocol version', {
      got: isPlainObject(value) ? (value.v ?? null) : null,
    });
  }
  if ('event' in value && validId(value.id)) {
    return { kind: 'progress', progress: { v: ADMIN_PROTOCOL_VERSION, id: value.id, event: value.event } };
  }
  const id = validId(value.id) ? value.id : null;
  if (value.ok === true) return { kind: 'response', response: okResponse(id, value.result) };
  if (value.ok === false && isPlainObject(value.error) && typeof value.error.code === 'string') {
    const e = value.error;
    return {
      kind: 'response',
      response: {
        v: ADMIN_PROTOCOL_VERSION,
        id,
        ok: false,
        error: {
          code: e.code as string,
          message: typeof e.message === 'string' ? e.message : '',
          context: isPlainObject(e.context) ? e.context : {},
        },
      },
    };
  }
  throw new DsrError('E_DECODE', 'the daemon sent a message that is neither a response nor progress');
}

/** Turns an error body from the daemon back into a DsrError (unknown codes become E_ADMIN_REQUEST). */
export function errorFromBody(body: AdminErrorBody): DsrError {
  const known = Object.hasOwn(ErrorCodes, body.code);
  const code = (known ? body.code : 'E_ADMIN_REQUEST') as ErrorCode;
  const message = known ? body.message : `${body.code}: ${body.message}`;
  return new DsrError(code, message, body.context);
}
