// Unit tests of the adoption files (the state file, the identity check that keeps a reused pid from being taken).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { noExits } from '../../src/launch/exit-reason';
import { identityProblem, KeeperState, processIdentity, readStates, removeKeeperFiles, STATE_VERSION, writeState } from '../../src/service/keeper-files';
import { settingsOf } from './service-fakes';

function stateOf(pid: number, over: Partial<KeeperState> = {}): KeeperState {
  const id = processIdentity(pid) ?? { startTime: '1', cgroupLine: '0::/' };
  return {
    version: STATE_VERSION, service: 'web', slot: 0, cgroup: 'web', initPid: pid, mainPid: null, ...id, startedAt: new Date(0).toISOString(),
    definition: 'd', settings: settingsOf({ resources: { memory: '64M' } }), starts: 1, restarts: 0, reaped: 0, lastExit: null,
    exits: { ...noExits(), error: 2, oom_killed: 1 }, ...over,
  };
}

describe('adoption files', () => {
  it('a state file reads back as written (0600), a stray file is an error naming it, and removal takes both files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-'));
    try {
      writeState(dir, stateOf(process.pid));
      assert.equal(fs.statSync(path.join(dir, 'web.json')).mode & 0o777, 0o600);
      fs.writeFileSync(path.join(dir, 'junk.json'), '{');
      const states = readStates(dir);
      assert.deepEqual(states.find((s): s is KeeperState => !(s instanceof Error)), stateOf(process.pid));
      assert.match(String(states.find((s) => s instanceof Error)), /junk\.json: /);
      removeKeeperFiles(dir, 'web');
      assert.deepEqual(fs.readdirSync(dir), ['junk.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a version 1 file (no version, exits or definition) with zero exits and no definition, and names a bad field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keeper-'));
    try {
      const { version, exits, settings, ...older } = stateOf(process.pid);
      fs.writeFileSync(path.join(dir, 'web.json'), JSON.stringify(older));
      assert.deepEqual(readStates(dir), [{ ...older, version: 1, exits: noExits(), settings: null }]);
      const bad = (over: Record<string, unknown>) => {
        fs.writeFileSync(path.join(dir, 'web.json'), JSON.stringify({ ...stateOf(process.pid), ...over }));
        return String(readStates(dir)[0]);
      };
      assert.match(bad({ exits: { error: -1 } }), /web\.json: exits\.error: expected a count, got -1/);
      assert.match(bad({ exits: { crashed: 1 } }), /exits\.crashed: not an exit reason/);
      assert.match(bad({ version: STATE_VERSION + 1 }), new RegExp(`version ${STATE_VERSION + 1}: written by a newer nsvisor`));
      assert.match(bad({ settings: 'web' }), /settings: expected a service's definition/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a pid only with its start time and cgroup as recorded', () => {
    assert.equal(identityProblem(stateOf(process.pid)), null);
    assert.match(identityProblem(stateOf(process.pid, { startTime: '1' }))!, /is another process now/);
    assert.match(identityProblem(stateOf(process.pid, { cgroupLine: '0::/elsewhere' }))!, /in another cgroup now/);
    assert.match(identityProblem(stateOf(2 ** 22 + 1))!, /is gone/);
  });
});
