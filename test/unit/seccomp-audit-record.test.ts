// Unit tests of reading a seccomp kill out of the kernel log: the kmsg record, the syscall's name, the wording of the death.
import { strict as assert } from 'assert';

import { describeExit } from '../../src/events/event-log';
import { classifyEnd } from '../../src/launch/exit-reason';
import { auditOff, describeSeccompDeath, seccompDeathOf } from '../../src/launch/seccomp-death';
import { parseSeccompRecord, sigsysRecordOf, syscallNameOf } from '../../src/seccomp/audit-record';

/** A record as this kernel printed it to /dev/kmsg when python3 called getppid under SCMP_ACT_KILL_PROCESS. */
const KILL = '5,618,360729694,-;audit: type=1326 audit(1796410268.550:1): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=12325 '
  + 'comm="python3" exe="/usr/bin/python3.11" sig=31 arch=c000003e syscall=110 compat=0 ip=0x7f456e2674f7 code=0x80000000\n';
const AT = 1796410268550;

describe('seccomp audit record', () => {
  it('reads pid, signal, arch, syscall and time from a kmsg line', () => {
    assert.deepEqual(parseSeccompRecord(KILL), { pid: 12325, sig: 31, arch: 0xc000003e, syscall: 110, at: AT });
  });

  it('ignores other messages, other audit types and a record without its fields', () => {
    assert.equal(parseSeccompRecord('6,1,2,-;eth0: link up\n'), null);
    assert.equal(parseSeccompRecord(KILL.replace('type=1326', 'type=1400')), null);
    assert.equal(parseSeccompRecord(KILL.replace(' syscall=110', '')), null);
    assert.equal(parseSeccompRecord(KILL.replace('arch=c000003e', 'arch=zz')), null);
  });

  it('is not fooled by a comm that looks like a field, and ignores continuation lines', () => {
    const line = KILL.replace('comm="python3"', 'comm="pid=7"').replace(/\n$/, '\n SUBSYSTEM=x pid=9\n');
    assert.equal(parseSeccompRecord(line)?.pid, 12325);
  });

  it('names the syscall on x86_64 (x32 bit too) and aarch64, and says null for what it does not know', () => {
    assert.equal(syscallNameOf(0xc000003e, 110), 'getppid');
    assert.equal(syscallNameOf(0xc000003e, 0x40000000 + 165), 'mount');
    assert.equal(syscallNameOf(0xc00000b7, 173), 'getppid');
    assert.equal(syscallNameOf(0x40000003, 64), null); // i386: no table
    assert.equal(syscallNameOf(0xc000003e, 100000), null);
  });

  const older = KILL.replace('audit(1796410268.550', 'audit(1796410200.000').replace('syscall=110', 'syscall=39');
  const other = KILL.replace('pid=12325', 'pid=12326').replace('syscall=110', 'syscall=62');
  const errno = KILL.replace('sig=31', 'sig=0').replace('syscall=110', 'syscall=102');

  it('takes the last SIGSYS record of the pid since the launch', () => {
    const syscallOf = (lines: string[], since: number) => sigsysRecordOf(lines, { pid: 12325 }, since).record?.syscall ?? null;
    assert.equal(syscallOf([older, KILL, other, errno], AT - 1000), 110);
    assert.equal(syscallOf([older], AT - 1000), null);
    assert.equal(syscallOf([KILL, older], 0), 39);
  });

  it('without the pid, takes the one pid after init\'s that has a record, and none when two have', () => {
    const after = (lines: string[], init: number) => sigsysRecordOf(lines, { after: init, within: 256 }, AT - 1000);
    assert.deepEqual(after([KILL, errno], 12320), { record: parseSeccompRecord(KILL), pids: 1 });
    assert.deepEqual(after([KILL], 12325), { record: null, pids: 0 }); // its own init's pid is not in the range
    assert.deepEqual(after([KILL], 12000), { record: null, pids: 0 }); // more than 256 pids later
    assert.deepEqual(after([KILL, other], 12320), { record: null, pids: 2 });
  });
});

describe('seccomp death', () => {
  const log = (kmsg: () => string[], cmdline = 'console=ttyS0 quiet') => ({ kmsg, cmdline: () => cmdline });

  it('finds the record once the kernel has printed it', async () => {
    let reads = 0;
    const death = await seccompDeathOf({ pid: 12325 }, AT - 1000, log(() => (++reads < 3 ? [] : [KILL])));
    assert.deepEqual(death, { syscall: 110, name: 'getppid' });
    assert.equal(reads, 3);
  });

  it('says that the kernel logged no record, or that the log could not be read', async () => {
    assert.deepEqual(await seccompDeathOf({ pid: 1 }, 0, log(() => [])), { syscall: null, name: null, missing: 'the kernel logged no record' });
    const denied = () => {
      throw Object.assign(new Error('EPERM: operation not permitted'), { code: 'EPERM' });
    };
    assert.equal((await seccompDeathOf({ pid: 1 }, 0, log(denied))).missing, 'cannot read /dev/kmsg: EPERM');
  });

  it('says when it cannot tell which of the processes started after init was the one', async () => {
    const two = [KILL, KILL.replace('pid=12325', 'pid=12330')];
    assert.deepEqual(await seccompDeathOf({ after: 12320, within: 256 }, 0, log(() => two)), {
      syscall: null, name: null, missing: 'it ended before nsvisor read its pid, and 2 processes started after its init died of the filter',
    });
  });

  it('says that audit is off when the kernel was booted with audit=0, without reading the log', async () => {
    assert.equal(auditOff('console=ttyS0 audit=0 quiet'), true);
    assert.equal(auditOff('audit=off'), true);
    assert.equal(auditOff('audit=1 audit_backlog_limit=0'), false);
    const unread = () => assert.fail('the log is not read when audit is off');
    assert.deepEqual(await seccompDeathOf({ pid: 1 }, 0, log(unread, 'quiet audit=0')), { syscall: null, name: null, missing: 'the kernel logs no record, it was booted with audit off' });
  });

  it('is the died: wording of an exit by SIGSYS, and only of one', () => {
    const seccomp = { syscall: 165, name: 'mount' };
    const exit = classifyEnd({ code: 159, signal: null, oomKilled: false, main: { code: null, signal: 'SIGSYS' }, seccomp });
    assert.equal(describeExit(exit), 'killed by the seccomp filter (SIGSYS) at syscall 165 (mount)');
    const segv = classifyEnd({ code: 139, signal: null, oomKilled: false, main: { code: null, signal: 'SIGSEGV' }, seccomp });
    assert.equal(describeExit(segv), 'killed by SIGSEGV');
    assert.equal(describeSeccompDeath({ syscall: null, name: null, missing: 'the kernel logged no record' }),
      'killed by SIGSYS, as the seccomp filter kills; which syscall is not known: the kernel logged no record');
  });
});
