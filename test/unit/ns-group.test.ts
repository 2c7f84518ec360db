// Unit tests of grouping processes' namespace links into one entry per namespace.
import { strict as assert } from 'assert';

import { groupByInode, restrictTo } from '../../src/ns/group';
import { ProcessNs } from '../../src/ns/types';

const HOST_PID = 4026531836;
const HOST_USER = 4026531837;
const CHILD_PID = 4026532181;

const processes: ProcessNs[] = [
  { pid: 300, links: [{ type: 'pid', inode: CHILD_PID }, { type: 'user', inode: HOST_USER }] },
  { pid: 2, links: [{ type: 'pid', inode: HOST_PID }, { type: 'user', inode: HOST_USER }] },
  { pid: 17, links: [{ type: 'pid', inode: HOST_PID }, { type: 'user', inode: HOST_USER }] },
  { pid: 301, links: [{ type: 'pid', inode: CHILD_PID }, { type: 'user', inode: HOST_USER }] },
];

describe('ns group: groupByInode', () => {
  it('makes one group per inode, sorted by inode, with every member pid ascending', () => {
    assert.deepEqual(groupByInode(processes), [
      { inode: HOST_PID, type: 'pid', pids: [2, 17] },
      { inode: HOST_USER, type: 'user', pids: [2, 17, 300, 301] },
      { inode: CHILD_PID, type: 'pid', pids: [300, 301] },
    ]);
  });

  it('counts a process once even if it is listed twice', () => {
    const twice = [processes[1], processes[1]];
    assert.deepEqual(groupByInode(twice).map((g) => g.pids), [[2], [2]]);
  });

  it('returns nothing for no processes', () => {
    assert.deepEqual(groupByInode([]), []);
  });
});

describe('ns group: restrictTo', () => {
  it('keeps only the namespaces of one process, with their host-wide members', () => {
    const groups = groupByInode(processes);
    const own = processes[0].links.map((l) => l.inode);
    assert.deepEqual(restrictTo(groups, own), [
      { inode: HOST_USER, type: 'user', pids: [2, 17, 300, 301] },
      { inode: CHILD_PID, type: 'pid', pids: [300, 301] },
    ]);
  });
});
