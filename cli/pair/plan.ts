/**
 * `dsrctl pair init`: from the answers an operator gives (the two directors, the VIPs, services
 * and real servers), both directors' configs, as config documents for the config serializer.
 * Pure. The configs differ only where they must (node, peer, priority: the first director named
 * is the preferred master), so they have equal fingerprints, which the command checks.
 *
 * The key file is named relative to the config (keys/election-1.key): the loader resolves it
 * against the config's directory, so the same text works in /etc/dsr-director and in a test.
 */
import { type ConfigInput, serializeConfigInput } from '../../config/index.ts';
import { usage } from '../../core/exit.ts';
import { canonicalIp, ipFamily } from '../../core/net/ip.ts';

export interface PairAnswers {
  /** Two directors, the preferred master first. */
  directors: { name: string; address: string }[];
  interface: string;
  group: { name: string; id: number };
  vips: string[];
  services: { name: string; protocol: 'tcp' | 'udp'; port: number; vip?: string }[];
  realServers: string[];
}

export const KEY_FILE = 'keys/election-1.key';
const PRIORITIES = [150, 100] as const;
const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;

/** Checks the answers as an operator would want to be told: each problem by name. */
export function validateAnswers(a: PairAnswers): void {
  if (a.directors.length !== 2) throw usage(`a pair is two directors; got ${a.directors.length}`);
  const [d1, d2] = a.directors;
  if (d1.name === d2.name) throw usage(`the two directors need different names (both ${d1.name})`);
  for (const d of a.directors) {
    if (!NAME.test(d.name))
      throw usage(`director name ${JSON.stringify(d.name)}: letters, digits, . _ - only`);
    if (ipFamily(d.address) === null) throw usage(`director ${d.name}: ${d.address} is not an IP address`);
  }
  if (ipFamily(d1.address) !== ipFamily(d2.address))
    throw usage('both directors need addresses of one family');
  if (!NAME.test(a.interface))
    throw usage(`interface ${JSON.stringify(a.interface)} is not an interface name`);
  if (!NAME.test(a.group.name))
    throw usage(`group name ${JSON.stringify(a.group.name)}: letters, digits, . _ - only`);
  if (!Number.isInteger(a.group.id) || a.group.id < 1 || a.group.id > 255) throw usage('--group-id: 1..255');
  if (a.vips.length === 0) throw usage('at least one --vip');
  for (const v of a.vips)
    if (ipFamily(v) === null) throw usage(`--vip ${v} is not an IP address (no prefix length)`);
  if (a.services.length === 0) throw usage('at least one --service name:tcp|udp:port');
  for (const s of a.services) {
    if (!NAME.test(s.name))
      throw usage(`service name ${JSON.stringify(s.name)}: letters, digits, . _ - only`);
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)
      throw usage(`service ${s.name}: port 1..65535`);
    if (s.vip !== undefined && !a.vips.map(canonicalIp).includes(canonicalIp(s.vip))) {
      throw usage(`service ${s.name}: ${s.vip} is not one of the --vip addresses`);
    }
  }
  if (a.realServers.length === 0) throw usage('at least one --real server');
  for (const r of a.realServers) if (ipFamily(r) === null) throw usage(`--real ${r} is not an IP address`);
}

/** The config document of director `index` (0 or 1) of the pair. */
export function directorConfig(a: PairAnswers, index: 0 | 1): ConfigInput {
  const self = a.directors[index];
  const peer = a.directors[1 - index];
  return {
    node: { id: self.name, address: self.address, priority: PRIORITIES[index] },
    peers: [{ id: peer.name, address: peer.address }],
    interfaces: [{ name: a.interface }],
    vip_groups: [{ name: a.group.name, id: a.group.id, vips: [...a.vips] }],
    services: a.services.map((s) => {
      const vip = s.vip ?? a.vips.find((v) => ipFamily(v) === ipFamily(a.realServers[0])) ?? a.vips[0];
      return {
        name: s.name,
        vip,
        protocol: s.protocol,
        port: s.port,
        // TCP: a connect check; UDP services have no protocol-neutral check, the operator adds one.
        ...(s.protocol === 'tcp' ? { health_check: { kind: 'tcp' as const } } : {}),
        real_servers: a.realServers
          .filter((r) => ipFamily(r) === ipFamily(vip))
          .map((address) => ({ address })),
      };
    }),
    keys: { election: { keys: [{ id: 1, file: KEY_FILE }] } },
    admin: { group: 'dsr-admin' },
  };
}

/** Both configs as YAML text, by director name. */
export function pairConfigs(a: PairAnswers): Map<string, string> {
  validateAnswers(a);
  return new Map(
    [0, 1].map((i) => [a.directors[i].name, serializeConfigInput(directorConfig(a, i as 0 | 1))]),
  );
}
