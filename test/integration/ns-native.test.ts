// Integration tests of the addon's nsInfo(path) against the real kernel: types, inodes, relations, errors, no fd leaks.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { addon } from '../../src/native';
import { NS_TYPES } from '../../src/ns/types';

const ino = (p: string): number => fs.statSync(p).ino;
const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

describe('ns native: nsInfo on our own namespaces', () => {
  for (const type of NS_TYPES) {
    it(`reports type and inode of /proc/self/ns/${type}`, () => {
      const file = `/proc/self/ns/${type}`;
      const info = addon.nsInfo(file);
      assert.equal(info.type, type);
      assert.equal(info.inode, ino(file));
      assert.equal(`${type}:[${info.inode}]`, fs.readlinkSync(file));
    });
  }

  it('gives non-user namespaces our user namespace as owner, and no parent or owner uid', () => {
    const ourUser = ino('/proc/self/ns/user');
    for (const type of NS_TYPES.filter((t) => t !== 'user' && t !== 'pid')) {
      const info = addon.nsInfo(`/proc/self/ns/${type}`);
      assert.equal(info.userns, ourUser, type);
      assert.equal(info.parent, null, type);
      assert.equal(info.ownerUid, null, type);
    }
  });

  it('gives our user namespace an owner uid, and the same inode (or null) as owner and parent', () => {
    const info = addon.nsInfo('/proc/self/ns/user');
    assert.equal(typeof info.ownerUid, 'number');
    // For a user namespace NS_GET_USERNS and NS_GET_PARENT both name the parent user namespace.
    assert.equal(info.userns, info.parent);
  });
});

describe('ns native: nsInfo errors', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-nsinfo-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('throws ENOENT with the failed open and its path', () => {
    const missing = path.join(dir, 'missing');
    assert.throws(() => addon.nsInfo(missing), { syscall: `open(${missing})`, errno: os.constants.errno.ENOENT });
  });

  it('throws ENOTTY naming the ioctl for a file that is not a namespace', () => {
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'x');
    assert.throws(() => addon.nsInfo(plain), {
      syscall: `ioctl(${plain}, NS_GET_NSTYPE)`,
      errno: os.constants.errno.ENOTTY,
      message: `ioctl(${plain}, NS_GET_NSTYPE): Inappropriate ioctl for device`,
    });
  });

  it('throws a TypeError for a path that is not a string', () => {
    assert.throws(() => (addon.nsInfo as unknown as (p: unknown) => unknown)(42), TypeError);
    assert.throws(() => (addon.nsInfo as unknown as () => unknown)(), TypeError);
  });

  it('closes every fd it opens, on success and on failure', () => {
    const plain = path.join(dir, 'leak-check');
    fs.writeFileSync(plain, 'x');
    const before = openFds();
    for (let i = 0; i < 200; i++) {
      for (const type of NS_TYPES) addon.nsInfo(`/proc/self/ns/${type}`);
      assert.throws(() => addon.nsInfo(plain));
      assert.throws(() => addon.nsInfo(path.join(dir, 'missing')));
    }
    assert.equal(openFds(), before);
  });
});
