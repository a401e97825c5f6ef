/** The maintenance record (daemon/election/maintenance.ts): absent is off; damaged is an error, never a guess. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { readMaintenance } from '../../daemon/election/maintenance.ts';

test('no record: off; a record: as written; a damaged record: E_STATE_FILE naming the way out', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-maint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(readMaintenance(dir), { on: false, since: null });
  writeFileSync(join(dir, 'maintenance.json'), '{"on":true,"since":"2026-12-07T20:00:00.000Z"}\n');
  t.deepEqual(readMaintenance(dir), { on: true, since: '2026-12-07T20:00:00.000Z' });
  for (const bad of ['', '{', '{"on":"yes"}', '[]']) {
    writeFileSync(join(dir, 'maintenance.json'), bad);
    const err = t.throws(() => readMaintenance(dir));
    t.true(isDsrError(err, 'E_STATE_FILE'), bad);
    t.regex(String(err?.message), /damaged.*remove it/);
  }
});
