// The stats pool hands the files a worker opened (held between collections) to the supervisor: they outlive that worker.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { CgroupPool } from '../../src/cgroup/cgroup-pool';
import type { CollectedStats } from '../../src/cgroup/stats';

describe('cgroup stats pool', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pool-'));
    fs.writeFileSync(path.join(dir, 'memory.current'), '100\n');
    fs.writeFileSync(path.join(dir, 'pids.current'), '3\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leaves the held files open, still the same files, once the worker that opened them has ended', async () => {
    const pool = new CgroupPool({ threads: 1 });
    let fds: Record<string, number | null> = {};
    try {
      const [stats] = (await pool.collect([{ kind: 'v2', dirs: { v2: dir }, hold: true }])) as CollectedStats[];
      assert.equal(stats.memoryUsageBytes, 100);
      fds = stats.fds!;
      assert.equal(typeof fds['memory.current'], 'number', 'the worker held the file');
    } finally {
      await pool.close(); // its only thread ends, as an idle one does after its timeout
    }
    // Node closes what a worker opened when it ends, unless told not to: the number would then be free for any new fd.
    const inode = (fd: number) => {
      try {
        return fs.fstatSync(fd).ino;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
    };
    const seen = ['memory.current', 'pids.current'].map((name) => [name, inode(fds[name]!), fs.statSync(path.join(dir, name)).ino]);
    for (const fd of Object.values(fds)) if (fd !== null && typeof inode(fd) === 'number') fs.closeSync(fd);
    for (const [name, now, file] of seen) assert.equal(now, file, `${name}: fd ${fds[name as string]} is still that file`);
  });
});
