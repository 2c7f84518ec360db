// Each step of the launch path made to fail in a real `nsvisor run` of two services: the supervisor and the other service go on, the failure is said, nothing is left.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import type { FaultSpec } from '../fault/preload';
import { FAULTS_ENV } from '../fault/preload';
import { rootDirs } from './cgroup-helpers';
import { mountinfo, processesWhere, repoRoot, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { leaseFiles, TestHost } from './net-helpers';
import { removeRoots } from './supervisor-helpers';

const PRELOAD = path.join(repoRoot, 'dist', 'test', 'fault', 'preload.js');
const NET = ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'];

interface Case {
  what: string;
  faults: FaultSpec[];
  /** Extra keys of the failing service. */
  victim?: Record<string, unknown>;
  /** The state the failing service settles in, and the text its status shows (failure or warning). */
  state: 'failed' | 'backoff' | 'running' | 'stopped';
  status: RegExp;
  /** The supervisor's line about it. */
  output: RegExp;
}

const CASES: Case[] = [
  {
    what: 'cgroup create (mkdir) refused',
    faults: [{ point: 'cgroup.create', subject: '/victim$', errno: 'EACCES' }],
    state: 'failed',
    status: /^\/sys\/fs\/cgroup\/\S+\/victim: mkdir: Permission denied$/,
    output: /victim: start failed: \/sys\/fs\/cgroup\/\S+\/victim: mkdir: Permission denied \(it cannot work as configured: not retried\)/,
  },
  {
    what: 'a limit write refused',
    faults: [{ point: 'cgroup.limit', subject: '/victim/memory\\.(max|limit_in_bytes)$', errno: 'EINVAL' }],
    state: 'failed',
    status: /^\/sys\/fs\/cgroup\/\S+\/victim\/memory\.(max|limit_in_bytes): write "67108864": Invalid argument$/,
    output: /victim: start failed: \S+\/victim\/memory\.(max|limit_in_bytes): write "67108864": Invalid argument/,
  },
  {
    what: 'placement into the cgroup refused',
    faults: [{ point: 'cgroup.placement', subject: '/victim(/cgroup\\.procs)?$', errno: 'EACCES' }],
    state: 'failed',
    status: /^(open|write cgroup\.procs)\(\/sys\/fs\/cgroup\/\S+\/victim(\/cgroup\.procs)?\): Permission denied$/,
    output: /victim: start failed: (open|write cgroup\.procs)\(\S+\): Permission denied/,
  },
  {
    what: 'the cgroup cannot be removed when the instance ends',
    faults: [{ point: 'cgroup.destroy', subject: '/victim$', errno: 'EPERM', times: 1 }],
    victim: { command: ['sh', '-c', 'echo victim-line; exit 1'], restart: { policy: 'never' } },
    state: 'stopped',
    status: /^remove the cgroup: \/sys\/fs\/cgroup\/\S+\/victim: rmdir: Operation not permitted$/,
    output: /victim: remove the cgroup: \S+\/victim: rmdir: Operation not permitted/,
  },
  {
    what: 'the address lease cannot be written',
    faults: [{ point: 'lease', subject: 'nsvf0/10\\.77\\.0\\.2$', errno: 'ENOSPC' }],
    victim: { isolate: NET, network: { attach: 'nsvf0' } },
    state: 'backoff',
    status: /^write\(\S+nsvf0\/10\.77\.0\.2\): No space left on device$/,
    output: /victim: start failed: write\(\S+\/10\.77\.0\.2\): No space left on device\n[^]*victim: next start in \d+ms/,
  },
  {
    what: 'a listen socket cannot be had',
    faults: [{ point: 'listen', subject: 'tcp://127\\.0\\.0\\.1:7301', errno: 'EADDRINUSE' }],
    victim: { listen: ['tcp://127.0.0.1:7301'] },
    state: 'backoff',
    status: /^victim: listen tcp:\/\/127\.0\.0\.1:7301: bind\/listen\(tcp:\/\/127\.0\.0\.1:7301\): Address already in use$/,
    output: /victim: start failed: victim: listen tcp:\/\/127\.0\.0\.1:7301: [^\n]*Address already in use\n/,
  },
  {
    what: 'netlink refuses the veth',
    faults: [{ point: 'netlink', subject: '^nsv-victi-', errno: 'ENOBUFS' }],
    victim: { isolate: NET, network: { attach: 'nsvf0' } },
    state: 'backoff',
    status: /^RTM_NEWLINK veth nsv-victi-\w+: No buffer space available$/,
    output: /victim: start failed: RTM_NEWLINK veth nsv-victi-\w+: No buffer space available\n/,
  },
  {
    what: 'clone3 fails',
    faults: [{ point: 'spawn', subject: '^victim$', errno: 'ENOMEM' }],
    state: 'backoff',
    status: /^clone3(\(CLONE_INTO_CGROUP \/sys\/fs\/cgroup\/\S+\/victim\))?: Cannot allocate memory$/,
    output: /victim: start failed: clone3(\(CLONE_INTO_CGROUP \S+\/victim\))?: Cannot allocate memory\n/,
  },
  {
    what: 'a garbage record on the status pipe',
    faults: [{ point: 'status-record', subject: '^victim$', times: 1 }],
    victim: { restart: { delay: '3s' } },
    state: 'backoff',
    status: /^status pipe: a record of unknown kind 32767: the rest is not read$/,
    output: /victim: start failed: status pipe: a record of unknown kind 32767: the rest is not read\n/,
  },
  {
    what: 'its log cannot be written (EACCES)',
    faults: [{ point: 'log-write', subject: '/victim\\.log$', errno: 'EACCES' }],
    state: 'running',
    status: /^log: EACCES: Permission denied, write '\S+\/victim\.log' \(its lines are lost until writes work again\)$/,
    output: /victim: log: EACCES: Permission denied, write '\S+\/victim\.log'/,
  },
  {
    what: 'its log cannot be written (ENOSPC)',
    faults: [{ point: 'log-write', subject: '/victim\\.log$', errno: 'ENOSPC' }],
    state: 'running',
    status: /^log: ENOSPC: No space left on device, write '\S+\/victim\.log' \(its lines are lost until writes work again\)$/,
    output: /victim: log: ENOSPC: No space left on device/,
  },
];

/** nsvisor-init processes of this checkout: none may outlive the supervisor. */
function inits(): number[] {
  const init = path.join(repoRoot, 'build', 'Release', 'nsvisor-init');
  return processesWhere((pid) => fs.readlinkSync(`/proc/${pid}/exe`) === init);
}

describe('supervisor: every launch step failing in turn (root, real nsvisor run)', function () {
  this.timeout(60_000 * SLOWDOWN);
  let host: TestHost;

  before(requireRoot);
  beforeEach(() => {
    host = new TestHost();
    host.ip('-n', host.name, 'link', 'set', 'lo', 'up');
  });
  afterEach(async () => {
    host.destroy();
    await removeRoots();
  });

  for (const c of CASES) {
    it(`${c.what}: the supervisor and the other service go on, the failure is said, nothing is left`, async () => {
      const initsBefore = inits();
      const mountsBefore = mountinfo();
      const services = {
        bystander: { command: ['sleep', '3600'] },
        victim: { command: ['sh', '-c', 'echo victim-line; exec sleep 3600'], resources: { memory: '64Mi' }, ...c.victim },
      };
      const sup = await host.supervise(services, { nsvf0: { subnet: '10.77.0.0/24' } }, { NODE_OPTIONS: `--require ${PRELOAD}`, [FAULTS_ENV]: JSON.stringify(c.faults) });
      try {
        const state = (name: string) => sup.status().find((s) => s.name === name);
        await waitFor(`the bystander running (${sup.out()})`, () => state('bystander')?.state === 'running');
        const bystander = state('bystander').pid;
        await waitFor(`victim ${c.state} with its reason (${sup.out()})`, () => {
          const v = state('victim');
          return v.state === c.state && c.status.test(v.failure ?? v.warning ?? '');
        });
        await waitFor(`the supervisor's line (${sup.out()})`, () => c.output.test(sup.out()));
        assert.equal(state('bystander').pid, bystander, 'the other service was not touched');
        assert.equal(state('bystander').state, 'running');
        assert.doesNotMatch(sup.out(), /internal error/);
      } finally {
        await sup.stop();
      }
      assert.match(sup.out(), /all services stopped/);
      const leftCgroups = rootDirs(sup.root).flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${d}/${e.name}`) : []));
      assert.deepEqual(leftCgroups, [], 'cgroups left behind');
      assert.deepEqual(inits().filter((p) => !initsBefore.includes(p)), [], 'processes left behind');
      assert.equal(mountinfo(), mountsBefore, 'mounts left behind');
      assert.deepEqual(host.links().filter((l) => l !== 'lo'), [], 'interfaces left behind');
      assert.deepEqual(leaseFiles(host.leaseDir), [], 'leases left behind');
    });
  }
});
