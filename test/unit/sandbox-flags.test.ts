// Unit tests of `nsvisor sandbox` flags becoming service keys.
import { strict as assert } from 'assert';

import { optionsFromFlags } from '../../src/cli/sandbox';

const base = { bind: [], tmpfs: [], env: [], device: [] };

describe('sandbox flags', () => {
  it('map to the service keys', () => {
    const o = optionsFromFlags(
      { ...base, isolate: 'pid, mount,uts', hostname: 'h', bind: ['/a:/b:ro', '/c:/d'], tmpfs: ['/tmp'], device: [], env: ['A=1', 'B=x=y'], boottime: 'fromZero', drain: '2s' },
      ['cmd', 'arg'],
    );
    assert.deepEqual(o.command, ['cmd', 'arg']);
    assert.deepEqual(o.isolate, ['pid', 'mount', 'uts']);
    assert.deepEqual(o.mounts, [
      { type: 'bind', source: '/a', target: '/b', readonly: true },
      { type: 'bind', source: '/c', target: '/d', readonly: false },
      { type: 'tmpfs', target: '/tmp' },
    ]);
    assert.deepEqual(o.env, { A: '1', B: 'x=y' });
    assert.deepEqual(o.time, { boottime: 'fromZero', monotonic: undefined });
    assert.deepEqual(o.stop, { drain: '2s' });
    assert.equal(o.baseEnv, process.env, 'the sandbox inherits the caller environment');
  });

  it('--memory, --cpus and --pids become resources; --cgroup-root the cgroup root', () => {
    const o = optionsFromFlags({ ...base, memory: '64Mi', cpus: '0.5', pids: '10', cgroupRoot: '/nsvisor-x' }, ['cmd']);
    assert.deepEqual(o.resources, { memory: '64Mi', cpus: 0.5, pids: 10 });
    assert.equal(o.cgroupRoot, '/nsvisor-x');
    assert.equal(optionsFromFlags(base, ['cmd']).resources, undefined, 'no limits, no cgroup');
    assert.throws(() => optionsFromFlags({ ...base, pids: '0' }, ['cmd']), /--pids 0: expected a positive whole number/);
    assert.throws(() => optionsFromFlags({ ...base, cpus: 'half' }, ['cmd']), /--cpus half: expected a positive number/);
  });

  it('--caps becomes capabilities ("" = none), --no-new-privs noNewPrivileges', () => {
    assert.deepEqual(optionsFromFlags({ ...base, caps: 'net_bind_service, CAP_KILL' }, ['x']).capabilities, ['net_bind_service', 'CAP_KILL']);
    assert.deepEqual(optionsFromFlags({ ...base, caps: '' }, ['x']).capabilities, []);
    assert.equal(optionsFromFlags(base, ['x']).capabilities, undefined, 'absent: every capability is kept');
    assert.equal(optionsFromFlags({ ...base, newPrivs: false }, ['x']).noNewPrivileges, true);
    assert.equal(optionsFromFlags(base, ['x']).noNewPrivileges, undefined);
  });

  it('--net none adds a network namespace to the isolate list', () => {
    assert.deepEqual(optionsFromFlags({ ...base, net: 'none' }, ['x']).isolate, ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net']);
    assert.deepEqual(optionsFromFlags({ ...base, isolate: 'uts', net: 'none' }, ['x']).isolate, ['uts', 'net']);
  });

  it('--uid-map needs --gid-map; both make a userns', () => {
    assert.throws(() => optionsFromFlags({ ...base, uidMap: '0:1:1' }, ['x']), /--uid-map and --gid-map go together/);
    assert.deepEqual(optionsFromFlags({ ...base, uidMap: '0:1:1', gidMap: '0:2:1' }, ['x']).userns, { uidMap: '0:1:1', gidMap: '0:2:1' });
  });

  it('refuses malformed values, naming the flag', () => {
    assert.throws(() => optionsFromFlags({ ...base, bind: ['/only'] }, ['x']), /--bind \/only: expected SRC:DST or SRC:DST:ro/);
    assert.throws(() => optionsFromFlags({ ...base, bind: ['/a:/b:rx'] }, ['x']), /--bind \/a:\/b:rx/);
    assert.throws(() => optionsFromFlags({ ...base, env: ['NOVALUE'] }, ['x']), /--env NOVALUE: expected KEY=VALUE/);
    assert.throws(() => optionsFromFlags({ ...base, net: 'a/b' }, ['x']), /--net a\/b: expected none or a bridge name/);
    assert.throws(() => optionsFromFlags({ ...base, subnet: '10.0.0.0/24' }, ['x']), /--subnet and --address need --net BRIDGE/);
  });

  it('--net BRIDGE attaches to that bridge, with --subnet and --address passed on', () => {
    const opts = optionsFromFlags({ ...base, net: 'nsv0', subnet: '10.9.0.0/24', address: '10.9.0.7' }, ['x']);
    assert.deepEqual(opts.net, { bridge: 'nsv0', subnet: '10.9.0.0/24', address: '10.9.0.7' });
    assert.ok(opts.isolate?.includes('net'));
  });
});
