/**
 * Quorum mode's line in `dsrctl status` (daemon/quorum/views.ts): the voter's role, term, leader,
 * lease, and which voters it hears. A part's status is its own JSON, so every field is checked.
 */
interface QuorumStatus {
  role: string;
  term: number;
  leader: string | null;
  leaseLeftMs: number;
  quorum: boolean;
  voters: { name: string | null; witness: boolean; reachable: boolean }[];
}

export function quorumOf(parts: readonly { name: string; status?: unknown }[]): QuorumStatus | null {
  const status = parts.find((p) => p.name === 'election')?.status;
  if (typeof status !== 'object' || status === null) return null;
  const q = (status as { quorum?: Partial<QuorumStatus> }).quorum;
  const ok = typeof q === 'object' && q !== null && typeof q.role === 'string' && Array.isArray(q.voters);
  return ok ? (q as QuorumStatus) : null;
}

/** Two lines, or '' when the daemon runs no quorum mode. */
export function quorumLine(parts: readonly { name: string; status?: unknown }[]): string {
  const q = quorumOf(parts);
  if (q === null) return '';
  const lease = q.leaseLeftMs > 0 ? `, lease ${q.leaseLeftMs} ms left` : '';
  const voters = q.voters
    .map((v) => `${v.name ?? '?'}${v.witness ? ' (witness)' : ''} ${v.reachable ? 'reachable' : 'NOT HEARD'}`)
    .join(', ');
  const quorum = q.quorum ? 'quorum' : 'NO QUORUM: no director may hold the VIPs from here';
  return `Quorum mode: ${q.role}, term ${q.term}, leader ${q.leader ?? 'none'}${lease}\nVoters ${voters}; ${quorum}\n`;
}
