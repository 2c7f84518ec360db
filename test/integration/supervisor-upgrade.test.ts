// `nsvisor upgrade`: the supervisor executes its program again in place: same pid, its service untouched and adopted, status answering; refused when the services could not survive it.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import { alive, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, startRun, stopRun } from './supervisor-helpers';

const TICKER = 'i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done';

describe('nsvisor upgrade (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('same supervisor pid, same service pids, the service adopted with no line lost, status answering', async () => {
    const run = await startRun({ ticker: { command: ['sh', '-c', TICKER] } }, { adoptTimeout: '20s' });
    const before = await waitFor('ticker running', () => run.status().find((s: any) => s.state === 'running'));
    const r = run.ctl(['upgrade']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`upgrading: pid ${run.child.pid} executes nsvisor `));
    await waitFor('the adoption by the program executed again', () => /ticker: adopted ticker/.test(run.output()));
    assert.equal(run.child.exitCode, null, 'the supervisor process did not end');
    assert.match(fs.readFileSync(`/proc/${run.child.pid}/cmdline`, 'utf8'), /\0run\0-c\0/, 'the same pid runs nsvisor run again');
    const after = await waitFor('status from the new program', () => {
      try {
        return run.status().find((s: any) => s.name === 'ticker' && s.adoptedAt);
      } catch {
        return null; // between the exec and the new control socket
      }
    });
    assert.deepEqual([after.pid, after.initPid, after.state], [before.pid, before.initPid, 'running']);
    await waitFor('lines after the upgrade', () => /tick \d+\s*$/.test(run.ctl(['logs', '-n', '10000', 'ticker']).stdout));
    const ticks = [...run.ctl(['logs', '-n', '10000', 'ticker']).stdout.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(ticks, ticks.map((_, i) => i), 'no line lost or repeated across the upgrade');
    assert.equal(await stopRun(run), 0);
    assert.ok(!alive(before.initPid), 'stopped (and reaped: init is still the supervisor\'s child)');
  });

  it('with adoptTimeout 0 it is refused, saying why, and nothing changes', async () => {
    const run = await startRun({ idle: { command: ['sleep', '1000'] } }, { adoptTimeout: '0s' });
    const before = await waitFor('idle running', () => run.status().find((s: any) => s.state === 'running'));
    const r = run.ctl(['upgrade']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /upgrade needs supervisor\.adoptTimeout > 0/);
    assert.equal(run.status()[0].pid, before.pid);
    assert.equal(await stopRun(run), 0);
  });
});
