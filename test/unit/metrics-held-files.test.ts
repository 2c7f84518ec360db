// Unit tests of holding the stats files open: opened once per instance by the worker, read afresh through the fds, closed once the instance is gone, within a budget.
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

  /** One collection of `instance` as ResourceCollector makes it: the worker's figures, its fds adopted. */
  const collect = (held: HeldFiles, instance: object) => {
    const t = held.target(instance, target);
    const { fds, ...figures } = statsOf(t);
    if (t.hold) held.adopt(instance, fds);
    return { t, figures };
  };

  it('has the worker open each file once per instance, then reads the current text through the fds; absent files are null', async () => {
    const held = new HeldFiles(100);
    const instance = {};
    held.begin();
    const first = collect(held, instance);
    assert.equal(first.t.hold, true);
    assert.equal(first.figures.memoryUsageBytes, 100);
    const { t } = collect(held, instance);
    assert.deepEqual(Object.keys(t.fds!).sort(), [...V2_FILES].sort());
    assert.equal(t.fds!['cpu.stat'], null, 'not there');
    fs.writeFileSync(path.join(dir, 'memory.current'), '250\n'); // same inode, new text
    assert.equal(statsOf(t).memoryUsageBytes, 250);
    held.end(new Set([instance]));
    await settle();
    assert.ok(isOpen(t.fds!['memory.current']!));
    held.begin();
    held.end(new Set());
    await settle();
    assert.ok(!isOpen(t.fds!['memory.current']!), 'closed once the instance is gone');
  });

  it('closes nothing while a collection reads, and holds no more than its budget', async () => {
    const held = new HeldFiles(V2_FILES.length);
    const a = {};
    held.begin();
    collect(held, a);
    const ta = held.target(a, target);
    assert.equal(held.target({}, target).hold, undefined, 'over budget: read by path');
    held.begin(); // a second collection, still reading after the first ends
    held.end(new Set());
    await settle();
    assert.ok(isOpen(ta.fds!['pids.current']!));
    held.end(new Set());
    await settle();
    assert.ok(!isOpen(ta.fds!['pids.current']!));
    held.closeAll();
    assert.equal(held.target({}, target).hold, undefined, 'nothing is opened after closeAll');
  });

  it('holds nothing of an instance a file of which fails to open for another reason than its absence (EMFILE), and asks again', () => {
    const held = new HeldFiles(V2_FILES.length);
    const instance = {};
    const notADir: StatsTarget = { kind: 'v2', dirs: { v2: path.join(dir, 'memory.current') } }; // ENOTDIR, as EMFILE would
    const t = held.target(instance, notADir);
    assert.equal(statsOf(t).fds, undefined);
    held.adopt(instance, undefined);
    assert.equal(held.target({}, target).hold, true, 'its budget is free again');
  });
});
