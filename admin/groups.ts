/**
 * Group name → gid, read from the group database file (Node has no getgrnam). Enough for the admin
 * socket's group ownership; NSS sources other than files (LDAP, sssd) need a numeric gid in config.
 */
import { readFileSync } from 'node:fs';
import { DsrError } from '../core/errors.ts';

export function parseGroupFile(text: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, , gid] = line.split(':');
    const n = Number(gid);
    if (name && gid !== undefined && gid !== '' && Number.isInteger(n) && n >= 0) groups.set(name, n);
  }
  return groups;
}

export function resolveGroupId(group: string | number, groupFile = '/etc/group'): number {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (e) {
    throw new DsrError(
      'E_ADMIN_SOCKET',
      `cannot read ${groupFile} to look up group "${group}"`,
      { group },
      e,
    );
  }
  const gid = parseGroupFile(text).get(group);
  if (gid === undefined) {
    throw new DsrError(
      'E_ADMIN_SOCKET',
      `admin socket group "${group}" does not exist in ${groupFile}; create it (groupadd ${group}) or give a numeric gid`,
      { group },
    );
  }
  return gid;
}
