// The clone child itself, through the addon: its guarded stack, giving up when the supervisor is gone, error records only on the status pipe.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { isolationSchema, IsolationInput } from '../../src/config/isolation';
import { addon, SpawnedChild } from '../../src/native';
import { hostContext } from '../../src/process/host-context';
import { decodeRecords } from '../../src/process/status-records';
import { buildSpawnPlan, SpawnPlan } from '../../src/spawn-plan/plan';
import { requireRoot, waitFor } from './helpers';

/** A plan for `true` with these settings, stdout to `stdout`. */
function planFor(input: Partial<IsolationInput>, stdout = 1): SpawnPlan {
  return buildSpawnPlan(isolationSchema.parse({ command: ['true'], ...input }), hostContext({ name: 'spawn-child', stdio: [0, stdout, 2] }));
}

/** Starts the child of `plan` (it waits for the go byte); `ended` resolves with how it ended, after its job is released. */
function start(plan: SpawnPlan): { child: SpawnedChild; ended: Promise<{ code: number | null; signal: number | null }> } {
  const child = addon.spawn(plan.request);
  const ended = new Promise<{ code: number | null; signal: number | null }>((resolve) => {
    new addon.PidfdWatch(child.pidfd, (code, signal) => {
      child.job.release();
      fs.closeSync(child.pidfd);
      resolve({ code, signal });
    });
  });
  return { child, ended };
}

/** Everything readable from an fd until EOF (all its writers are gone once the child has ended). */
function drain(fd: number): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (let n; (n = fs.readSync(fd, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  fs.closeSync(fd);
  return Buffer.concat(chunks);
}

const READ = process.arch === 'arm64' ? 63 : 0;

/** The stack pointer of a process blocked in read(2), from /proc/PID/syscall ("nr args... sp pc"). */
async function stackPointerInRead(pid: number): Promise<bigint> {
  const fields = await waitFor(`child ${pid} to block in read`, () => {
    const f = fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').trim().split(' ');
    return Number(f[0]) === READ && f.length === 9 && f;
  });
  return BigInt(fields[7]);
}

/** The mappings of this process (the child shares them: CLONE_VM), in address order. */
function mappings(): { start: bigint; end: bigint; perms: string }[] {
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [range, perms] = line.split(' ');
      const [start, end] = range.split('-').map((h) => BigInt(`0x${h}`));
      return { start, end, perms };
    });
}

describe('spawn child (real kernel)', () => {
  it('runs on a stack with a PROT_NONE guard page right below it', async () => {
    const { child, ended } = start(planFor({ isolate: [] }));
    try {
      const sp = await stackPointerInRead(child.pid);
      const maps = mappings();
      const i = maps.findIndex((m) => m.start <= sp && sp < m.end);
      assert.ok(i > 0, `the stack pointer ${sp.toString(16)} is in a mapping`);
      assert.equal(maps[i].perms, 'rw-p', 'the stack');
      const page = BigInt(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
      assert.equal(maps[i - 1].end, maps[i].start, 'a mapping right below the stack');
      assert.equal(maps[i - 1].perms, '---p', 'that is not accessible: an overflow faults instead of writing into the heap');
      assert.ok(maps[i - 1].end - maps[i - 1].start >= page, 'at least a page');
    } finally {
      fs.closeSync(child.syncFd); // EOF instead of the go byte: the child gives up
    }
    assert.deepEqual(await ended, { code: 125, signal: null });
    assert.equal(drain(child.statusFd).length, 0, 'giving up is silent');
  });

  it('an error before the fds are in place goes to the status pipe, never into stdout', async () => {
    const [outR, outW] = addon.pipe();
    const { child, ended } = start(planFor({ isolate: [] }, outW));
    fs.closeSync(outW);
    // No fd number at or above the child's base may be made: its first F_DUPFD_CLOEXEC fails with EINVAL.
    execFileSync('prlimit', ['--pid', String(child.pid), '--nofile=3:3']);
    fs.writeSync(child.syncFd, 'g');
    fs.closeSync(child.syncFd);
    assert.deepEqual(await ended, { code: 125, signal: null });
    const { records, rest } = decodeRecords(drain(child.statusFd));
    assert.deepEqual(records, [{ kind: 'error', stepId: addon.steps.FDS_DUP, step: addon.stepNames[addon.steps.FDS_DUP], errno: os.constants.errno.EINVAL, index: -1 }]);
    assert.equal(rest.length, 0);
    assert.equal(drain(outR).length, 0, 'nothing was written to stdout');
  });

  describe('after a change of ids (root: a user namespace with root mapped elsewhere)', () => {
    before(requireRoot);

    it('gives up before setting anything up when the supervisor\'s end of the status pipe is gone by then', async () => {
      // A rootfs: what the child would go on to do (mkdir of /proc, /dev, ... in it) shows on the host.
      const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'spawn-child-root-'));
      try {
        const plan = planFor({ isolate: ['user', 'pid', 'mount'], userns: 'auto', rootfs });
        assert.equal(plan.request.becomeRoot, true, 'setresuid(0) in the namespace: the kernel clears PDEATHSIG there');
        const [, outsideUid] = plan.idMaps!.uidMap.split(' ').map(Number);
        const [, outsideGid] = plan.idMaps!.gidMap.split(' ').map(Number);
        fs.chownSync(rootfs, outsideUid, outsideGid); // its root may create there, were it to go on
        const { child, ended } = start(plan);
        fs.writeFileSync(`/proc/${child.pid}/gid_map`, plan.idMaps!.gidMap);
        fs.writeFileSync(`/proc/${child.pid}/uid_map`, plan.idMaps!.uidMap);
        // The supervisor "dies": its read end of the status pipe closes, then the go byte arrives.
        fs.closeSync(child.statusFd);
        fs.writeSync(child.syncFd, 'g');
        fs.closeSync(child.syncFd);
        assert.deepEqual(await ended, { code: 125, signal: null });
        assert.deepEqual(fs.readdirSync(rootfs), [], 'it stopped right after the id change: no mount target was made');
      } finally {
        fs.rmSync(rootfs, { recursive: true, force: true });
      }
    });

    it('goes on to run the command while the supervisor is there', async () => {
      const plan = planFor({ isolate: ['user', 'pid', 'mount'], userns: 'auto' });
      const { child, ended } = start(plan);
      fs.writeFileSync(`/proc/${child.pid}/gid_map`, plan.idMaps!.gidMap);
      fs.writeFileSync(`/proc/${child.pid}/uid_map`, plan.idMaps!.uidMap);
      fs.writeSync(child.syncFd, 'g');
      fs.closeSync(child.syncFd);
      assert.deepEqual(await ended, { code: 0, signal: null });
      const kinds = decodeRecords(drain(child.statusFd)).records.map((r) => r.kind);
      assert.deepEqual(kinds.slice(0, 2), ['initStarted', 'execOk']);
    });
  });
});
