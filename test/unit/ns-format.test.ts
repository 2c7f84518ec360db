// Unit tests of the nsvisor ns table and --json output.
import { strict as assert } from 'assert';

import { formatJson, formatTable } from '../../src/ns/format';
import { NsEntry } from '../../src/ns/types';

const entries: NsEntry[] = [
  {
    inode: 4026531836, type: 'pid', nprocs: 66, pid: 2, user: 'root', command: 'kthreadd',
    userns: 4026531837, parent: null, ownerUid: null,
  },
  {
    inode: 4026532177, type: 'user', nprocs: 2, pid: 5851, user: 'daemon', command: 'unshare --user sleep 30',
    userns: 4026531837, parent: 4026531837, ownerUid: 1000,
  },
];

describe('ns format: table', () => {
  const lines = formatTable(entries).split('\n');

  it('prints the header, one line per namespace, and ends with a newline', () => {
    assert.equal(lines.length, 4);
    assert.equal(lines[3], '');
    assert.deepEqual(lines[0].split(/ +/).filter(Boolean), ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'USERNS', 'PARENT', 'OWNER', 'COMMAND']);
  });

  it('aligns the columns: numbers to the right, text to the left', () => {
    assert.equal(lines[0], '        NS TYPE NPROCS  PID USER       USERNS     PARENT OWNER COMMAND');
    assert.equal(lines[1], '4026531836 pid      66    2 root   4026531837          -     - kthreadd');
    assert.equal(lines[2], '4026532177 user      2 5851 daemon 4026531837 4026531837  1000 unshare --user sleep 30');
  });

  it('shows "-" for relations that are null, and no trailing spaces', () => {
    assert.match(lines[1], / - +- kthreadd$/);
    for (const l of lines) assert.equal(l, l.trimEnd());
  });

  it('cuts a command of several lines to its first, as lsns does (the JSON keeps it whole)', () => {
    const multi = { ...entries[1], command: "sh -c \n  while :; do\n    sleep 5\n  done" };
    const table = formatTable([multi]).split('\n');
    assert.equal(table.length, 3);
    assert.match(table[1], / 1000 sh -c \.\.\.$/);
    assert.equal(JSON.parse(formatJson([multi]))[0].command, multi.command);
  });

  it('prints only the header for no namespaces', () => {
    assert.equal(formatTable([]), 'NS TYPE NPROCS PID USER USERNS PARENT OWNER COMMAND\n');
  });
});

describe('ns format: json', () => {
  it('prints an array of objects with the camelCase keys in a fixed order', () => {
    const parsed = JSON.parse(formatJson(entries));
    assert.deepEqual(parsed, entries);
    assert.deepEqual(Object.keys(parsed[0]), ['inode', 'type', 'nprocs', 'pid', 'user', 'command', 'userns', 'parent', 'ownerUid']);
    assert.equal(parsed[0].parent, null);
    assert.equal(parsed[1].ownerUid, 1000);
  });

  it('prints [] for no namespaces', () => {
    assert.deepEqual(JSON.parse(formatJson([])), []);
  });
});
