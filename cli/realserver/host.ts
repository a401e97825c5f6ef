/**
 * The real host behind the real-server checks: reads addresses (`ip -j addr`) and sysctls
 * (/proc/sys), and applies setup actions. Runs locally in dsrctl, never through the daemon: the
 * real servers do not run dsrd.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DsrError } from '../../core/errors.ts';
import type { IpFamily } from '../../core/net/ip.ts';
import { type HostFacts, type HostInterface, sysctlNames } from './check.ts';
import { describeAction, type SetupAction } from './setup.ts';

const run = promisify(execFile);
/** `ip` lives in /usr/sbin, which a non-root PATH often lacks. */
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };

export interface RealServerHost {
  facts(): Promise<HostFacts>;
  apply(action: SetupAction): Promise<void>;
}

/** net.ipv4.conf.eth0.100.arp_ignore → net/ipv4/conf/eth0.100/arp_ignore (interface names may hold dots). */
export function sysctlPath(name: string): string {
  const m = /^net\.(ipv4|ipv6)\.conf\.(.+)\.([a-z_]+)$/.exec(name);
  const rel = m === null ? name.replaceAll('.', '/') : `net/${m[1]}/conf/${m[2]}/${m[3]}`;
  return `/proc/sys/${rel}`;
}

interface IpJsonAddr {
  family?: string;
  local?: string;
  prefixlen?: number;
}

interface IpJsonLink {
  ifname?: string;
  flags?: string[];
  link_type?: string;
  addr_info?: IpJsonAddr[];
}

export function parseIpAddrJson(text: string): HostInterface[] {
  let links: unknown;
  try {
    links = JSON.parse(text);
  } catch {
    throw new DsrError('E_COMMAND_FAILED', '`ip -j addr show` did not print JSON');
  }
  if (!Array.isArray(links)) throw new DsrError('E_COMMAND_FAILED', '`ip -j addr show` did not print a list');
  return (links as IpJsonLink[])
    .filter((l) => typeof l.ifname === 'string')
    .map((l) => ({
      name: l.ifname!,
      up: (l.flags ?? []).includes('UP'),
      loopback: (l.flags ?? []).includes('LOOPBACK') || l.link_type === 'loopback',
      addresses: (l.addr_info ?? [])
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
        .map((a) => ({
          address: a.local!,
          prefixLength: a.prefixlen ?? (a.family === 'inet' ? 32 : 128),
          family: (a.family === 'inet' ? 4 : 6) as IpFamily,
        })),
    }));
}

async function ip(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { env: ENV, timeout: 10_000 });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT')
      throw new DsrError('E_MISSING_TOOL', 'the `ip` command (iproute2) is not installed');
    throw new DsrError(
      'E_COMMAND_FAILED',
      `ip ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`,
      {
        args,
      },
    );
  }
}

export class LocalRealServerHost implements RealServerHost {
  async facts(): Promise<HostFacts> {
    const interfaces = parseIpAddrJson(await ip(['-j', 'addr', 'show']));
    const names = sysctlNames(interfaces.filter((i) => !i.loopback).map((i) => i.name));
    const sysctl: Record<string, string | undefined> = {};
    await Promise.all(
      names.map(async (n) => {
        sysctl[n] = await readFile(sysctlPath(n), 'utf8').then(
          (v) => v.trim(),
          () => undefined,
        );
      }),
    );
    return { interfaces, sysctl };
  }

  async apply(action: SetupAction): Promise<void> {
    switch (action.kind) {
      case 'link-up':
        await ip(['link', 'set', action.ifname, 'up']);
        return;
      case 'add-address':
        await ip(['addr', 'add', `${action.address}/${action.prefixLength}`, 'dev', action.ifname]);
        return;
      case 'sysctl':
        try {
          await writeFile(sysctlPath(action.name), action.value);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          throw new DsrError(
            code === 'EACCES' || code === 'EPERM' ? 'E_NOT_ROOT' : 'E_COMMAND_FAILED',
            `cannot ${describeAction(action)}: ${code}`,
            { name: action.name },
          );
        }
    }
  }
}
