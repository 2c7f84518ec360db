// The addon's argument checks (native/bindings.h): malformed calls get a TypeError or RangeError naming the argument, before anything is made.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import { addon, createKinds, initPath, mountKinds, SpawnRequest, STEP_IDS, timeModes } from '../../src/native';

/** A well-formed request (never started here: each case breaks one thing). */
function request(): SpawnRequest {
  const none = { mode: timeModes.none, sec: 0, nsec: 0 };
  return {
    cloneFlags: 0, unshareTime: false, monotonic: none, boottime: none, unshareCgroup: false, cgroupFd: null,
    becomeRoot: false, clearGroups: false, stdio: [0, 1, 2], passFds: [], newSession: false, propagation: 0,
    rootfs: null, readonlyRoot: false,
    mounts: [{ kind: mountKinds.tmpfs, source: null, target: '/tmp', data: null, readonly: false, create: createKinds.never }],
    hostname: null, domainname: null, loopbackUp: false, cwd: null, initPath, argv: ['nsvisor-init'], envp: [],
  };
}

/** The request with `change` applied to a fresh copy. */
function broken(change: (r: any) => void): unknown {
  const r: any = request();
  change(r);
  return r;
}

const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('native arguments: spawn() checks the whole request before it makes anything', () => {
  const carry = { kind: mountKinds.carry, source: '/run/x.sock', target: '/run/x.sock', data: null, readonly: true, create: createKinds.file };
  const typeErrors: [string, unknown, string][] = [
    ['no request', undefined, 'request: expected an object, got undefined'],
    ['a number for the request', 42, 'request: expected an object, got 42'],
    ['an array for the request', [], 'request: expected an object, got an array'],
    ['argv not an array', broken((r) => (r.argv = 'nsvisor-init')), 'request.argv: expected an array, got a string'],
    ['a number in argv', broken((r) => (r.argv = ['a', 7])), 'request.argv[1]: expected a string, got 7'],
    ['envp missing', broken((r) => delete r.envp), 'request.envp: expected an array, got undefined'],
    ['mounts not an array', broken((r) => (r.mounts = 'tmpfs')), 'request.mounts: expected an array, got a string'],
    ['a null mount', broken((r) => (r.mounts = [null])), 'request.mounts[0]: expected an object, got null'],
    ['an unknown mount kind', broken((r) => (r.mounts[0].kind = 99)), 'request.mounts[0].kind: expected a mount kind (addon.mountKinds), got 99'],
    ['an unknown create kind', broken((r) => (r.mounts[0].create = 3)), 'request.mounts[0].create: expected a create kind (addon.createKinds), got 3'],
    ['a mount without target', broken((r) => delete r.mounts[0].target), 'request.mounts[0].target: expected a string, got undefined'],
    ['a bind without source', broken((r) => (r.mounts[0].kind = mountKinds.bind)), 'request.mounts[0].source: expected a string, got null'],
    ['a sysfs without its cgroup target', broken((r) => (r.mounts[0] = { ...r.mounts[0], kind: mountKinds.sysfs, source: '/sys/fs/cgroup' })), 'request.mounts[0].data: expected a string, got null'],
    ['readonly not a boolean', broken((r) => (r.mounts[0].readonly = 1)), 'request.mounts[0].readonly: expected a boolean, got 1'],
    ['two stdio fds', broken((r) => (r.stdio = [0, 1])), 'request.stdio: expected three fds, got an array'],
    ['a negative fd', broken((r) => (r.stdio = [0, -1, 2])), 'request.stdio[1]: expected a file descriptor (an integer >= 0), got -1'],
    ['a fractional fd', broken((r) => (r.passFds = [1.5])), 'request.passFds[0]: expected a file descriptor (an integer >= 0), got 1.5'],
    ['a string for the cgroup fd', broken((r) => (r.cgroupFd = '7')), 'request.cgroupFd: expected a file descriptor (an integer >= 0), got a string'],
    ['no time offset', broken((r) => delete r.monotonic), 'request.monotonic: expected an object, got undefined'],
    ['an unknown time mode', broken((r) => (r.boottime = { ...r.boottime, mode: 7 })), 'request.boottime.mode: expected a time mode (addon.timeModes), got 7'],
    ['nanoseconds of a whole second', broken((r) => (r.boottime = { ...r.boottime, nsec: 1e9 })), 'request.boottime.nsec: expected nanoseconds 0 to 999999999, got 1000000000'],
    ['seconds beyond a safe integer', broken((r) => (r.boottime = { ...r.boottime, sec: 2 ** 60 })), 'request.boottime.sec: expected a safe integer, got 1152921504606847000'],
    ['negative clone flags', broken((r) => (r.cloneFlags = -1)), 'request.cloneFlags: expected clone flags (an integer >= 0), got -1'],
    ['an unknown propagation', broken((r) => (r.propagation = 5)), 'request.propagation: expected 0 or one of MS.PRIVATE, MS.SLAVE, MS.SHARED, got 5'],
    ['a string for a flag', broken((r) => (r.becomeRoot = 'yes')), 'request.becomeRoot: expected a boolean, got a string'],
    ['a number for the hostname', broken((r) => (r.hostname = 1)), 'request.hostname: expected a string or null, got 1'],
    ['no initPath', broken((r) => delete r.initPath), 'request.initPath: expected a string, got undefined'],
  ];
  const rangeErrors: [string, unknown, string][] = [
    ['65 passed fds', broken((r) => (r.passFds = Array.from({ length: 65 }, () => 0))), 'request.passFds: at most 64 items, got 65'],
    ['five carried mounts', broken((r) => (r.mounts = Array.from({ length: 5 }, () => carry))), 'request.mounts: at most 4 mounts of kind carry'],
  ];

  for (const [name, errors] of [['TypeError', typeErrors], ['RangeError', rangeErrors]] as const) {
    for (const [what, req, message] of errors) {
      it(`${what}: a ${name} naming it`, () => {
        const before = openFds();
        assert.throws(() => addon.spawn(req as SpawnRequest), { name, message: `spawn: ${message}` });
        assert.equal(openFds(), before, 'no pipe or fd was made for it');
      });
    }
  }
});

describe('native arguments: the other bindings', () => {
  const cases: [string, () => unknown, string][] = [
    ['listenTcp port', () => addon.listenTcp('127.0.0.1', 'x' as any, 1), 'listenTcp: port: expected a 32-bit integer, got a string'],
    ['listenTcp port range', () => addon.listenTcp('127.0.0.1', 70000, 1), 'listenTcp: port: expected a port 0 to 65535, got 70000'],
    ['listenUnix mode', () => addon.listenUnix('/nonexistent/x.sock', 1, -1), 'listenUnix: mode: expected an unsigned 32-bit integer, got -1'],
    ['PidfdWatch pidfd', () => new addon.PidfdWatch(-1, () => undefined), 'PidfdWatch: pidfd: expected a file descriptor (an integer >= 0), got -1'],
    ['PidfdWatch callback', () => new addon.PidfdWatch(0, undefined as any), 'PidfdWatch: onExit: expected a function, got undefined'],
    ['NotifySocket callback', () => new addon.NotifySocket('/nonexistent/n.sock', 5 as any), 'NotifySocket: onMessage: expected a function, got 5'],
    ['execve argv', () => addon.execve('/bin/true', ['true', 1 as any], []), 'execve: argv[1]: expected a string, got 1'],
    ['execve envp', () => addon.execve('/bin/true', ['true'], 'A=1' as any), 'execve: envp: expected an array, got a string'],
    ['execve keepFds', () => addon.execve('/bin/true', ['true'], [], -2), 'execve: keepFds: expected an unsigned 32-bit integer, got -2'],
    ['sendSignal signal', () => addon.sendSignal(3, 'SIGTERM' as any), 'sendSignal: signal: expected a 32-bit integer, got a string'],
    ['reap pid', () => addon.reap('1' as any), 'reap: pid: expected a 32-bit integer, got a string'],
    ['strerror', () => (addon.strerror as any)(), 'strerror: errno: expected a 32-bit integer, got undefined'],
    ['nsInfo path', () => addon.nsInfo(1 as any), 'nsInfo: path: expected a string, got 1'],
    ['netnsSocket pid', () => addon.netnsSocket(null as any), 'netnsSocket: pid: expected a 32-bit integer, got null'],
    ['netLinkMove newName', () => addon.netLinkMove('eth0', 1, 5 as any), 'netLinkMove: newName: expected a string or null, got 5'],
    ['netLinkMove fromNsFd', () => addon.netLinkMove('eth0', 1, null, 'x' as any), 'netLinkMove: fromNsFd: expected a file descriptor (an integer >= 0), got a string'],
    ['netConfigure address', () => addon.netConfigure(1, 'eth0', -1, 24, 0), 'netConfigure: address: expected an unsigned 32-bit integer, got -1'],
    ['netLinkStats pid', () => (addon.netLinkStats as any)(), 'netLinkStats: pid: expected a 32-bit integer, got undefined'],
  ];
  for (const [what, call, message] of cases) {
    it(`${what}: a TypeError naming the argument`, () => assert.throws(call, { name: 'TypeError', message }));
  }
});

describe('native constants: steps and enums come from the C headers', () => {
  it('every step TypeScript names has its id, each id its message', () => {
    const ids = Object.entries(addon.steps);
    assert.deepEqual(ids.map(([, v]) => v), ids.map((_, i) => i), 'ids are 0, 1, 2, ... in order');
    assert.equal(ids.length, addon.stepNames.length);
    assert.deepEqual(STEP_IDS.filter((id) => !(id in addon.steps)), [], 'every id TypeScript names is one of native/steps.h');
    assert.equal(addon.stepNames[addon.steps.SIGMASK], 'rt_sigprocmask');
    assert.equal(addon.stepNames[addon.steps.PIVOT_ROOT], 'pivot_root');
  });

  it('mount kinds, create kinds and time modes by name, distinct values', () => {
    assert.deepEqual(Object.keys(mountKinds), ['bind', 'tmpfs', 'proc', 'mqueue', 'sysfs', 'devpts', 'carry']);
    assert.deepEqual(Object.keys(createKinds), ['never', 'directory', 'file']);
    assert.deepEqual(Object.keys(timeModes), ['none', 'offset', 'fromZero']);
    for (const kinds of [mountKinds, createKinds, timeModes]) {
      const values: number[] = Object.values(kinds);
      assert.equal(new Set(values).size, values.length);
    }
  });
});
