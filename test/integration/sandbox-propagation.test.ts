// Mount propagation of the sandbox's root: private isolates both ways, slave lets host mounts in, shared lets ours out.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { mainPid, mountinfo, requireRoot, waitFor, withSandbox } from './helpers';

describe('sandbox: mount propagation (root, real kernel)', function () {
  before(requireRoot);
  let dir: string;

  // The host's / here is private, so each test shares a tmpfs of its own to propagate through.
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'propagation-'));
    execFileSync('mount', ['-t', 'tmpfs', 'propagation-base', dir]);
    execFileSync('mount', ['--make-shared', dir]);
    fs.mkdirSync(path.join(dir, 'inner'));
    fs.mkdirSync(path.join(dir, 'fromhost'));
  });
  afterEach(() => {
    for (const sub of ['inner', 'fromhost', '']) {
      const target = path.join(dir, sub);
      while (mountinfo().includes(` ${target} `)) execFileSync('umount', ['-l', target]);
    }
    fs.rmdirSync(dir);
  });

  for (const [mode, hostMountSeenInside, innerMountSeenOnHost] of [
    ['private', false, false],
    ['slave', true, false],
    ['shared', true, true],
  ] as const) {
    it(`${mode}: host mounts ${hostMountSeenInside ? 'reach' : 'do not reach'} the sandbox, its mounts ${innerMountSeenOnHost ? 'reach' : 'do not reach'} the host`, async () => {
      const inner = `inner-${mode}-${process.pid}`;
      const fromHost = `fromhost-${mode}-${process.pid}`;
      await withSandbox(
        // Mounting inside needs what the defaults take away (CAP_SYS_ADMIN, mount(2)): privileged.
        { command: ['sh', '-c', `mount -t tmpfs ${inner} ${dir}/inner && exec sleep 3600`], propagation: mode, privileged: true },
        async (proc) => {
          const main = await mainPid(proc.pid);
          await waitFor('the mount inside', () => mountinfo(main).includes(inner));
          execFileSync('mount', ['-t', 'tmpfs', fromHost, path.join(dir, 'fromhost')]);
          if (hostMountSeenInside) await waitFor('the host mount inside', () => mountinfo(main).includes(fromHost));
          assert.equal(mountinfo(main).includes(fromHost), hostMountSeenInside, 'host mount seen inside');
          assert.equal(mountinfo('self').includes(inner), innerMountSeenOnHost, 'sandbox mount seen on the host');
        },
      );
    });
  }
});
