// Unit tests of building the nsvisor ns rows from a fake system: skipping vanished processes, samples, counts, one pid's view.
import { strict as assert } from 'assert';

import { NsInfo } from '../../src/native';
import { isVanishedOrDenied } from '../../src/ns/quiet';
import { listNamespaces, namespacesOfPid } from '../../src/ns/scan';
import { NsLink, NsSource, NsType } from '../../src/ns/types';

const HOST_USER = 100;
const HOST_PID = 101;
const CHILD_USER = 200;
const CHILD_PID = 201;

function errnoError(code: string, errno: number): Error {
  return Object.assign(new Error(code), { code, errno: -errno });
}
const ENOENT = () => errnoError('ENOENT', 2);
const EACCES = () => errnoError('EACCES', 13);

interface FakeProcess {
  uid: number;
  command: string;
  links: NsLink[];
  /** What reading this process does: work, vanish (ENOENT), or deny (EACCES); per method. */
  fail?: { links?: () => Error; process?: () => Error; info?: () => Error };
}

const relations: Record<number, Omit<NsInfo, 'inode' | 'type'>> = {
  [HOST_USER]: { userns: null, parent: null, ownerUid: 0 },
  [HOST_PID]: { userns: HOST_USER, parent: null, ownerUid: null },
  [CHILD_USER]: { userns: HOST_USER, parent: HOST_USER, ownerUid: 1000 },
  [CHILD_PID]: { userns: CHILD_USER, parent: HOST_PID, ownerUid: null },
};

function fakeSource(procs: Record<number, FakeProcess>): NsSource & { infoCalls: string[] } {
  const infoCalls: string[] = [];
  const get = (pid: number): FakeProcess => {
    const p = procs[pid];
    if (!p) throw ENOENT();
    return p;
  };
  return {
    infoCalls,
    pids: () => Object.keys(procs).map(Number).sort((a, b) => a - b),
    links(pid) {
      const p = get(pid);
      if (p.fail?.links) throw p.fail.links();
      return p.links;
    },
    process(pid) {
      const p = get(pid);
      if (p.fail?.process) throw p.fail.process();
      return { uid: p.uid, command: p.command };
    },
    info(pid, type: NsType) {
      infoCalls.push(`${pid}/${type}`);
      const p = get(pid);
      if (p.fail?.info) throw p.fail.info();
      const link = p.links.find((l) => l.type === type);
      if (!link) throw ENOENT();
      return { type, inode: link.inode, ...relations[link.inode] };
    },
    userName: (uid) => (uid === 0 ? 'root' : String(uid)),
  };
}

const hostLinks: NsLink[] = [{ type: 'user', inode: HOST_USER }, { type: 'pid', inode: HOST_PID }];
const childLinks: NsLink[] = [{ type: 'user', inode: CHILD_USER }, { type: 'pid', inode: CHILD_PID }];

function system(): Record<number, FakeProcess> {
  return {
    1: { uid: 0, command: 'init', links: hostLinks, fail: { links: EACCES } },
    2: { uid: 0, command: 'kthreadd', links: hostLinks },
    50: { uid: 0, command: 'sshd', links: hostLinks },
    700: { uid: 1000, command: 'sleep 30', links: childLinks },
    701: { uid: 1000, command: 'sh', links: childLinks },
  };
}

describe('ns scan: listNamespaces', () => {
  it('lists each namespace once with its process count, lowest readable pid as the sample, and its relations', () => {
    assert.deepEqual(listNamespaces(fakeSource(system())), [
      { inode: HOST_USER, type: 'user', nprocs: 2, pid: 2, user: 'root', command: 'kthreadd', userns: null, parent: null, ownerUid: 0 },
      { inode: HOST_PID, type: 'pid', nprocs: 2, pid: 2, user: 'root', command: 'kthreadd', userns: HOST_USER, parent: null, ownerUid: null },
      { inode: CHILD_USER, type: 'user', nprocs: 2, pid: 700, user: '1000', command: 'sleep 30', userns: HOST_USER, parent: HOST_USER, ownerUid: 1000 },
      { inode: CHILD_PID, type: 'pid', nprocs: 2, pid: 700, user: '1000', command: 'sleep 30', userns: CHILD_USER, parent: HOST_PID, ownerUid: null },
    ]);
  });

  it('asks ioctl_ns once per namespace, not once per process', () => {
    const source = fakeSource(system());
    listNamespaces(source);
    assert.deepEqual(source.infoCalls, ['2/user', '2/pid', '700/user', '700/pid']);
  });

  it('skips, quietly, processes whose links vanish or are denied', () => {
    const procs = system();
    procs[50].fail = { links: ENOENT };
    procs[701].fail = { links: EACCES };
    const rows = listNamespaces(fakeSource(procs));
    assert.deepEqual(rows.map((r) => [r.inode, r.nprocs]), [[HOST_USER, 1], [HOST_PID, 1], [CHILD_USER, 1], [CHILD_PID, 1]]);
  });

  it('moves the sample to the next pid when the lowest one vanishes after the scan', () => {
    const procs = system();
    procs[700].fail = { process: ENOENT };
    const child = listNamespaces(fakeSource(procs)).filter((r) => r.inode === CHILD_PID);
    assert.deepEqual(child.map((r) => [r.pid, r.command, r.nprocs]), [[701, 'sh', 2]]);
  });

  it('drops a namespace whose every process has gone before it could be described', () => {
    const procs = system();
    procs[700].fail = { info: ENOENT };
    procs[701].fail = { info: () => Object.assign(new Error('open'), { errno: 3 }) }; // ESRCH from the addon
    const rows = listNamespaces(fakeSource(procs));
    assert.deepEqual(rows.map((r) => r.inode), [HOST_USER, HOST_PID]);
  });

  it('lets unexpected errors through', () => {
    const procs = system();
    procs[2].fail = { info: () => Object.assign(new Error('ioctl'), { errno: 25 }) }; // ENOTTY
    assert.throws(() => listNamespaces(fakeSource(procs)), /ioctl/);
  });
});

describe('ns scan: namespacesOfPid', () => {
  it('restricts to the namespaces of the pid, counting their processes across the host', () => {
    const rows = namespacesOfPid(fakeSource(system()), 701);
    assert.deepEqual(rows.map((r) => [r.inode, r.type, r.nprocs, r.pid]), [
      [CHILD_USER, 'user', 2, 700],
      [CHILD_PID, 'pid', 2, 700],
    ]);
  });

  it('shows host namespaces for a host process', () => {
    const rows = namespacesOfPid(fakeSource(system()), 50);
    assert.deepEqual(rows.map((r) => [r.inode, r.nprocs]), [[HOST_USER, 2], [HOST_PID, 2]]);
  });

  it('reports a missing or unreadable pid to the caller', () => {
    assert.throws(() => namespacesOfPid(fakeSource(system()), 4242), { code: 'ENOENT' });
    assert.throws(() => namespacesOfPid(fakeSource(system()), 1), { code: 'EACCES' });
  });
});

describe('ns scan: isVanishedOrDenied', () => {
  it('recognises fs errors by code and addon errors by positive errno', () => {
    assert.equal(isVanishedOrDenied(errnoError('ENOENT', 2)), true);
    assert.equal(isVanishedOrDenied(errnoError('EACCES', 13)), true);
    assert.equal(isVanishedOrDenied({ errno: 3 }), true); // ESRCH
    assert.equal(isVanishedOrDenied({ errno: 1 }), true); // EPERM
    assert.equal(isVanishedOrDenied({ errno: 25 }), false); // ENOTTY
    assert.equal(isVanishedOrDenied(errnoError('EIO', 5)), false);
    assert.equal(isVanishedOrDenied(new Error('plain')), false);
    assert.equal(isVanishedOrDenied(null), false);
  });
});
