import test from 'ava';
import { pino } from 'pino';
import { DsrError, isDsrError } from '../../core/errors.ts';
import { type Part, Supervisor } from '../../daemon/supervisor.ts';

const log = pino({ level: 'silent' });

/** A change names the config sections it touches; fake parts say which sections concern them. */
interface Change {
  sections: string[];
  tag: string;
}

interface FakeOptions {
  failStart?: boolean;
  failStop?: boolean;
  hangStop?: boolean;
  failReload?: string;
  sections?: string[];
  canReload?: boolean;
}

function fakePart(name: string, journal: string[], o: FakeOptions = {}): Part<string, Change> {
  const part: Part<string, Change> = {
    name,
    start(ctx) {
      journal.push(`start ${name} (${ctx})`);
      if (o.failStart) throw new DsrError('E_NETLINK', `${name} cannot open netlink`);
    },
    async stop() {
      journal.push(`stop ${name}`);
      if (o.failStop) throw new Error(`${name} stop broke`);
      if (o.hangStop) await new Promise(() => {});
    },
    status: () => ({ fine: name }),
  };
  if (o.sections !== undefined) part.affectedBy = (c) => c.sections.some((s) => o.sections!.includes(s));
  if (o.canReload !== false && o.sections !== undefined) {
    part.reload = (c) => {
      journal.push(`reload ${name} ${c.tag}`);
      if (o.failReload === c.tag) throw new Error(`${name} refuses ${c.tag}`);
    };
  }
  return part;
}

test('parts start in order and stop in reverse order; the election, last, stops first', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor([fakePart('admin', j), fakePart('forwarder', j), fakePart('election', j)], {
    log,
  });
  await sup.start((p) => `ctx:${p.name}`);
  t.deepEqual(
    sup.report().map((r) => r.state),
    ['running', 'running', 'running'],
  );
  t.deepEqual(sup.report()[1].status, { fine: 'forwarder' });
  t.deepEqual(await sup.stop(), []);
  t.deepEqual(j, [
    'start admin (ctx:admin)',
    'start forwarder (ctx:forwarder)',
    'start election (ctx:election)',
    'stop election',
    'stop forwarder',
    'stop admin',
  ]);
  t.deepEqual(await sup.stop(), [], 'a second stop does nothing');
  t.is(j.length, 6);
});

test('a part failing to start stops the start, names the part, and cleans up what was started', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor(
    [
      fakePart('admin', j),
      fakePart('forwarder', j),
      fakePart('vip', j, { failStart: true }),
      fakePart('election', j),
    ],
    { log },
  );
  const err = await t.throwsAsync(sup.start(() => 'c'));
  t.true(isDsrError(err, 'E_PART_START'));
  t.is(err.message, 'E_PART_START: part "vip" failed to start: E_NETLINK: vip cannot open netlink');
  t.deepEqual((err as DsrError).context, { part: 'vip', cause: 'E_NETLINK' });
  t.deepEqual(j, [
    'start admin (c)',
    'start forwarder (c)',
    'start vip (c)',
    'stop vip',
    'stop forwarder',
    'stop admin',
  ]);
  t.deepEqual(
    sup.report().map((r) => `${r.name}:${r.state}`),
    ['admin:stopped', 'forwarder:stopped', 'vip:failed', 'election:stopped'],
  );
});

test('cleanup errors after a failed start are reported, and every part is still stopped', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor(
    [fakePart('a', j), fakePart('b', j, { failStop: true }), fakePart('c', j, { failStart: true })],
    { log },
  );
  const err = await t.throwsAsync(sup.start(() => ''));
  t.deepEqual((err as DsrError).context.cleanupErrors, ['b: b stop broke']);
  t.deepEqual(j.slice(-3), ['stop c', 'stop b', 'stop a']);
});

test('a stop that hangs is abandoned after the timeout and the others still stop', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor([fakePart('a', j), fakePart('b', j, { hangStop: true }), fakePart('c', j)], {
    log,
    stopTimeoutMs: 20,
  });
  await sup.start(() => '');
  const errors = await sup.stop();
  t.deepEqual(errors, ['b: E_TIMEOUT: stop of "b" did not finish within 20 ms']);
  t.deepEqual(j.slice(-3), ['stop c', 'stop b', 'stop a']);
});

test('a service change reloads only the parts it concerns: the election is not touched', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor(
    [
      fakePart('admin', j),
      fakePart('forwarder', j, { sections: ['services', 'interfaces'] }),
      fakePart('health', j, { sections: ['services', 'healthChecks'] }),
      fakePart('election', j, { sections: ['vipGroups', 'peers', 'keys'] }),
    ],
    { log },
  );
  await sup.start(() => '');
  j.length = 0;
  const change = { sections: ['services'], tag: 'add-rs' };
  t.deepEqual(sup.plan(change), { reload: ['forwarder', 'health'], needRestart: [] });
  t.deepEqual(await sup.reload(change, { sections: ['services'], tag: 'undo' }), {
    reload: ['forwarder', 'health'],
    needRestart: [],
  });
  t.deepEqual(j, ['reload forwarder add-rs', 'reload health add-rs']);
  j.length = 0;
  await sup.reload({ sections: ['peers'], tag: 'peer' }, { sections: ['peers'], tag: 'undo' });
  t.deepEqual(j, ['reload election peer']);
});

test('a change a concerned part cannot apply live is refused before anything is applied', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor(
    [
      fakePart('forwarder', j, { sections: ['services', 'interfaces'] }),
      fakePart('metrics', j, { sections: ['metrics'], canReload: false }),
    ],
    { log },
  );
  await sup.start(() => '');
  j.length = 0;
  const err = await t.throwsAsync(
    sup.reload({ sections: ['services', 'metrics'], tag: 'x' }, { sections: [], tag: 'u' }),
  );
  t.true(isDsrError(err, 'E_RELOAD'));
  t.regex(err.message, /needs a restart of dsrd: part\(s\) metrics cannot apply it live; old config kept/);
  t.deepEqual(j, [], 'nothing was reloaded');
});

test('a part failing to reload undoes itself and the parts already reloaded, newest first', async (t) => {
  const j: string[] = [];
  const sup = new Supervisor(
    [
      fakePart('forwarder', j, { sections: ['services'] }),
      fakePart('health', j, { sections: ['services'] }),
      fakePart('alerts', j, { sections: ['services'], failReload: 'new' }),
      fakePart('election', j, { sections: ['services'] }),
    ],
    { log },
  );
  await sup.start(() => '');
  j.length = 0;
  const err = await t.throwsAsync(
    sup.reload({ sections: ['services'], tag: 'new' }, { sections: ['services'], tag: 'old' }),
  );
  t.regex(err.message, /part "alerts" could not apply the new config: alerts refuses new; old config kept/);
  t.deepEqual((err as DsrError).context.undone, ['health', 'forwarder']);
  t.deepEqual(j, [
    'reload forwarder new',
    'reload health new',
    'reload alerts new',
    'reload alerts old',
    'reload health old',
    'reload forwarder old',
  ]);
});

test('reload before start is refused; start twice is refused; duplicate names are refused', async (t) => {
  const j: string[] = [];
  t.throws(() => new Supervisor([fakePart('a', j), fakePart('a', j)], { log }), {
    message: /two daemon parts/,
  });
  const sup = new Supervisor([fakePart('a', j, { sections: ['x'] })], { log });
  await t.throwsAsync(sup.reload({ sections: ['x'], tag: '' }, { sections: ['x'], tag: '' }), {
    message: /not running/,
  });
  await sup.start(() => '');
  await t.throwsAsync(
    sup.start(() => ''),
    { message: /already started/ },
  );
});

test('stop waits for a reload in progress instead of interleaving with it', async (t) => {
  const j: string[] = [];
  let release!: () => void;
  const slow: Part<string, Change> = {
    name: 'slow',
    start: () => {},
    stop: () => {
      j.push('stop slow');
    },
    reload: async () => {
      j.push('reload begins');
      await new Promise<void>((r) => {
        release = r;
      });
      j.push('reload ends');
    },
  };
  const sup = new Supervisor([slow], { log });
  await sup.start(() => '');
  const reloading = sup.reload({ sections: [], tag: '' }, { sections: [], tag: '' });
  const stopping = sup.stop();
  await new Promise((r) => setImmediate(r));
  release();
  await reloading;
  await stopping;
  t.deepEqual(j, ['reload begins', 'reload ends', 'stop slow']);
});

test('a part can refuse one particular change as needing a restart; nothing is applied', async (t) => {
  const j: string[] = [];
  const alerts = fakePart('alerts', j, { sections: ['alerts'] });
  alerts.cannotReload = (c) => (c.tag === 'move-queue' ? 'queue directory fixed while running' : undefined);
  const sup = new Supervisor([fakePart('forwarder', j, { sections: ['alerts'] }), alerts], { log });
  await sup.start(() => '');
  j.length = 0;
  const err = await t.throwsAsync(
    sup.reload({ sections: ['alerts'], tag: 'move-queue' }, { sections: [], tag: 'u' }),
  );
  t.regex(err.message, /part\(s\) alerts \(queue directory fixed while running\) cannot apply it live/);
  t.deepEqual(j, []);
  await sup.reload({ sections: ['alerts'], tag: 'targets' }, { sections: [], tag: 'u' });
  t.deepEqual(j, ['reload forwarder targets', 'reload alerts targets']);
});
