import test from 'ava';
import { runSchedule } from '../../../lab/quorum/simulation.ts';

/** The floor for the suite; `npm run bench -- quorum` runs more. */
const SCHEDULES = 10_000;

test(`${SCHEDULES} seeded schedules: never two lease holders, one committed history, a leader again after the heal`, (t) => {
  const failures: string[] = [];
  const topologies = new Map<string, number>();
  let transfers = 0;
  let leaseChanges = 0;
  for (let seed = 1; seed <= SCHEDULES; seed++) {
    const result = runSchedule(seed);
    topologies.set(result.topology, (topologies.get(result.topology) ?? 0) + 1);
    transfers += result.transfers;
    leaseChanges += result.leaseChanges;
    if (result.violations.length > 0)
      failures.push(`seed ${seed} (${result.topology}): ${result.violations[0]}`);
    else if (!result.live)
      failures.push(`seed ${seed} (${result.topology}): no leader holding the lease after the heal`);
  }
  t.deepEqual(failures.slice(0, 5), []);
  // The schedules exercised what they claim to.
  t.is(topologies.size, 3);
  t.true(transfers > SCHEDULES / 2, `${transfers} transfers`);
  t.true(leaseChanges > SCHEDULES * 10, `${leaseChanges} lease changes`);
});

test('the checker finds overlapping leases when a voter outlasts the others’ promise', (t) => {
  let violating = 0;
  for (let seed = 1; seed <= 300; seed++) {
    if (runSchedule(seed, { voterOneTimeoutFactor: 3 }).violations.some((v) => v.includes('hold a lease')))
      violating += 1;
  }
  t.true(violating > 0, 'no schedule showed the overlap');
});
