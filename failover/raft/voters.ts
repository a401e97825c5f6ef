/**
 * Who votes, who holds the log, and how many of each a decision needs.
 *
 * A witness votes and answers a leader's appends (so it counts for elections and leases) but holds
 * no log and never leads: it needs no disk beyond its term and vote. Commits therefore count only
 * log holders, and need enough of them that every vote quorum contains one (so a new leader has
 * every committed entry, Raft §5.4.1): a vote quorum of `m` of `n` voters can avoid at most
 * `n − q` of the `q` log holders that acknowledged, so `q = n − m + 1`. This is the intersection
 * condition of Howard, Malkhi & Spiegelman, "Flexible Paxos" (2016), §3. For a pair and a witness
 * both directors must hold an entry to commit it; with no witness it is the usual majority.
 */
import { DsrError } from '../../core/errors.ts';

export class Voters {
  readonly all: readonly number[];
  readonly witnesses: ReadonlySet<number>;
  /** Votes (and lease answers) a decision needs: a majority of all voters. */
  readonly voteQuorum: number;
  /** Log holders (the leader included) that must hold an entry before it commits. */
  readonly commitQuorum: number;

  constructor(self: number, voters: readonly number[], witnesses: readonly number[]) {
    const all = [...new Set(voters)];
    const context = { self, voters, witnesses };
    if (
      all.length !== voters.length ||
      !all.includes(self) ||
      all.some((id) => !(Number.isInteger(id) && id > 0))
    ) {
      throw new DsrError(
        'E_ELECTION_INPUT',
        'raft voters must be distinct positive ids and include this node',
        context,
      );
    }
    if (witnesses.some((id) => !all.includes(id))) {
      throw new DsrError('E_ELECTION_INPUT', 'every raft witness must be one of the voters', context);
    }
    this.all = all;
    this.witnesses = new Set(witnesses);
    this.voteQuorum = Math.floor(all.length / 2) + 1;
    this.commitQuorum = all.length - this.voteQuorum + 1;
    if (this.commitQuorum > all.length - this.witnesses.size) {
      throw new DsrError('E_ELECTION_INPUT', 'too many witnesses: entries could never commit', {
        ...context,
        commitQuorum: this.commitQuorum,
      });
    }
  }

  isWitness(id: number): boolean {
    return this.witnesses.has(id);
  }

  has(id: number): boolean {
    return this.all.includes(id);
  }

  peersOf(self: number): number[] {
    return this.all.filter((id) => id !== self);
  }
}
