// A successor whose configuration changed one of two services: the other is adopted, the changed one's old instance (connected to, then let go) is ended and it starts anew.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { parse, stringify } from 'yaml';

import { alive, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, runAgain, startRun, stateOf, stopRun } from './supervisor-helpers';

describe('adoption with a changed definition (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('the unchanged service is adopted, the changed one is started anew and its old instance does not stay', async () => {
    const first = await startRun({ kept: { command: ['sleep', '1000'] }, changed: { command: ['sleep', '1001'] } }, { adoptTimeout: '20s' });
    const before = await waitFor('both running', () => {
      const rows = first.status();
      return rows.every((s: any) => s.state === 'running') ? Object.fromEntries(rows.map((s: any) => [s.name, s])) : null;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const config = parse(fs.readFileSync(first.file, 'utf8'));
    config.services.changed.command = ['sleep', '1002'];
    fs.writeFileSync(first.file, stringify(config));
    const second = await runAgain(first);
    try {
      await waitFor(`the adoption and the refusal (${second.output()})`, () =>
        /kept: adopted kept/.test(second.output()) && /changed.*its definition differs in this configuration: not adopted, started anew/.test(second.output()));
      const kept = stateOf(second, 'kept');
      assert.deepEqual([kept.state, kept.pid, kept.initPid], ['running', before.kept.pid, before.kept.initPid]);
      const changed = await waitFor('changed running anew', () => (stateOf(second, 'changed')?.state === 'running' ? stateOf(second, 'changed') : null));
      assert.notEqual(changed.initPid, before.changed.initPid, 'a new instance');
      assert.equal(changed.adoptedAt ?? null, null);
      await waitFor('the old instance of changed gone (its cgroup was a leftover)', () => !alive(before.changed.initPid) && !alive(before.changed.pid));
      assert.ok(alive(before.kept.pid), 'the adopted one runs on');
    } finally {
      assert.equal(await stopRun(second), 0);
    }
    assert.ok(!alive(before.kept.initPid), 'the adopted instance is stopped with its supervisor');
  });
});
