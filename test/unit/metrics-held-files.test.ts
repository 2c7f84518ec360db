// Unit tests of holding the stats files open: one open per instance, fds read afresh by the worker, closed once the instance is gone, within a budget.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { StatsTarget } from '../../src/cgroup/driver';
import { V2_FILES } from '../../src/cgroup/stats';
import { HeldFiles } from '../../src/metrics/held-files';
import { statsOf } from '../../src/workers/cgroup-stats';

const isOpen = (fd: number) => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('metrics: held stats files', () => {
  let dir = '';
  let target: StatsTarget;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'held-'));
    fs.writeFileSync(path.join(dir, 'memory.current'), '100\n');
    fs.writeFileSync(path.join(dir, 'pids.current'), '3\n');
    target = { kind: 'v2', dirs: { v2: dir } };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens each file once per instance; the worker reads the current text through the fd; absent files are null', async () => {
    const held = new HeldFiles(100);
    const instance = {};
    held.begin();
    const t = await held.target(instance, target);
    assert.deepEqual(Object.keys(t.fds!).sort(), [...V2_FILES].sort());
    assert.equal(t.fds!['cpu.stat'], null, 'not there');
    assert.equal(statsOf(t).memoryUsageBytes, 100);
    fs.writeFileSync(path.join(dir, 'memory.current'), '250\n'); // same inode, new text
    assert.deepEqual((await held.target(instance, target)).fds, t.fds, 'the same fds again');
    assert.equal(statsOf(t).memoryUsageBytes, 250);
    held.end(new Set([instance]));
    await settle();
    assert.ok(isOpen(t.fds!['memory.current']!));
    held.begin();
    held.end(new Set());
    await settle();
    assert.ok(!isOpen(t.fds!['memory.current']!), 'closed once the instance is gone');
  });

  it('holds nothing of an instance a file of which fails to open for another reason than its absence (EMFILE)', async () => {
    const held = new HeldFiles(V2_FILES.length);
    const notADir = { kind: 'v2' as const, dirs: { v2: path.join(dir, 'memory.current') } }; // ENOTDIR, as EMFILE would
    held.begin();
    assert.equal((await held.target({}, notADir)).fds, undefined);
    assert.deepEqual(Object.keys((await held.target({}, target)).fds!).sort(), [...V2_FILES].sort(), 'and its fds count no more');
    held.end(new Set());
  });

  it('closes nothing while a collection reads, and holds no more than its budget', async () => {
    const held = new HeldFiles(V2_FILES.length);
    const a = {};
    held.begin();
    const ta = await held.target(a, target);
    assert.equal((await held.target({}, target)).fds, undefined, 'over budget: read by path');
    held.begin(); // a second collection, still reading after the first ends
    held.end(new Set());
    await settle();
    assert.ok(isOpen(ta.fds!['pids.current']!));
    held.end(new Set());
    await settle();
    assert.ok(!isOpen(ta.fds!['pids.current']!));
    held.closeAll();
    assert.equal((await held.target({}, target)).fds, undefined, 'nothing is opened after closeAll');
  });
});
