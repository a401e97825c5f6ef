/**
 * zod schemas of the arguments of the commands in contracts.ts (daemon side: dsrctl does not
 * load zod).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_DIFF_TEXT_BYTES } from './contracts.ts';

const ip = z.string().refine((s) => isIP(s) !== 0, { error: 'expected an IPv4 or IPv6 address' });
const port = z.number().int().min(0).max(65535);

export const ConnsArgs = z
  .object({
    /** Service name. */
    service: z.string().min(1).max(63).optional(),
    /** Client address; a CIDR prefix is allowed ("198.18.0.0/24"). */
    client: z.string().min(1).max(64).optional(),
    limit: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict();
export type ConnsArgs = z.infer<typeof ConnsArgs>;

export const ExplainArgs = z
  .object({
    client: ip,
    clientPort: port,
    vip: ip,
    vipPort: port,
    protocol: z.enum(['tcp', 'udp']),
  })
  .strict();
export type ExplainArgs = z.infer<typeof ExplainArgs>;

/** No level: just report the current one. */
export const LogLevelArgs = z.object({ level: z.string().min(1).max(10).optional() }).strict();

export const ConfigDiffArgs = z
  .object({
    /** Text of the candidate config (dsrctl reads the file with the operator's own permissions). */
    text: z.string().max(MAX_DIFF_TEXT_BYTES),
    /** File name for error positions, and the base for relative paths inside it. */
    file: z.string().min(1).max(4096),
  })
  .strict();
