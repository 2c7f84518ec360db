// A main process killed by a user profile's SCMP_ACT_KILL_PROCESS: the sandbox and the supervisor name the syscall from the kernel's audit record.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { archInfo, hostArch } from '../../src/seccomp';
import { cliAsync, processesWhere, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, startRun, stateOf, stopRun } from './supervisor-helpers';

const GETPPID = archInfo(hostArch()).syscalls.get('getppid')!;
/** Booted with audit=0 (as the v2 VM is), the kernel logs no seccomp record: the death says so instead. */
const AUDIT_OFF = /(?:^|\s)audit=(?:0|off)(?=\s|$)/.test(fs.readFileSync('/proc/cmdline', 'utf8'));
const SAID = AUDIT_OFF
  ? 'killed by SIGSYS, as the seccomp filter kills; which syscall is not known: the kernel logs no record, it was booted with audit off'
  : `killed by the seccomp filter (SIGSYS) at syscall ${GETPPID} (getppid)`;
const PROFILE = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_KILL_PROCESS' }] };

/** python3 that waits for `go` to exist (so that nsvisor has seen it run), then calls getppid. */
const caller = (go: string) => ['/usr/bin/python3', '-c', `import os, time\nwhile not os.path.exists(${JSON.stringify(go)}): time.sleep(0.01)\nos.getppid()`];

/** Host pids of the python3 processes waiting for `go`. */
const waiting = (go: string) => processesWhere((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(go));

describe('seccomp: a death by the filter says which syscall (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  let dir: string;
  let profile: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-sigsys-'));
    profile = path.join(dir, 'kill-getppid.json');
    fs.writeFileSync(profile, JSON.stringify(PROFILE));
  });
  afterEach(async () => {
    await removeRoots();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sandbox: exit status 159 and the syscall on stderr', async () => {
    const go = path.join(dir, 'go');
    const run = cliAsync(['sandbox', '--seccomp', profile, '--', ...caller(go)]);
    await waitFor('python3 to wait for its cue', () => waiting(go).length > 0);
    fs.writeFileSync(go, '');
    const r = await run;
    assert.equal(r.code, 128 + os.constants.signals.SIGSYS);
    assert.equal(r.stderr, `nsvisor: /usr/bin/python3: ${SAID}\n`);
  });

  it('sandbox: a command the filter kills in its first calls (sh asks getppid for $PPID) is named too', async () => {
    // It may die before nsvisor reads its pid: then the record is the one of a pid after its init's.
    for (let i = 0; i < 3; i++) {
      const r = await cliAsync(['sandbox', '--seccomp', profile, '--', '/bin/sh', '-c', 'true']);
      assert.equal(r.code, 128 + os.constants.signals.SIGSYS);
      assert.equal(r.stderr, `nsvisor: /bin/sh: ${SAID}\n`);
    }
  });

  it('service: the died: line, status NOTE and lastExit name the syscall', async () => {
    const go = path.join(dir, 'go');
    const run = await startRun({ victim: { command: caller(go), seccomp: profile, restart: { policy: 'never' } } });
    try {
      await waitFor('the victim to run', () => stateOf(run, 'victim').state === 'running');
      fs.writeFileSync(go, '');
      const s = await waitFor('the victim to stop', () => {
        const st = stateOf(run, 'victim');
        return st.state === 'stopped' && st;
      });
      const audited = { syscall: GETPPID, name: 'getppid' };
      assert.deepEqual(s.lastExit.seccomp, AUDIT_OFF ? { syscall: null, name: null, missing: 'the kernel logs no record, it was booted with audit off' } : audited);
      assert.equal(s.lastExit.signal, 'SIGSYS');
      assert.equal(s.failure, SAID);
      assert.match(run.ctl(['status']).stdout, new RegExp(`victim .*${SAID.replace(/[()]/g, '\\$&')}`));
      await waitFor('the died: line', () => run.output().includes(`nsvisor: victim: died: ${SAID}\n`));
    } finally {
      assert.equal(await stopRun(run), 0);
    }
  });
});
