// Unit tests of the seccomp compiler: nsvisor's default profile and hand-made ones compiled per architecture, run in a BPF interpreter.
import { strict as assert } from 'assert';

import { actionValue } from '../../src/seccomp/actions';
import { archInfo, ARCHES, Arch } from '../../src/seccomp/arch';
import { compileSeccomp } from '../../src/seccomp/compile';
import { ALLOWED_FOR_ALL } from '../../src/seccomp/default-allow-list';
import { defaultProfile } from '../../src/seccomp/default-profile';
import type { ArgCondition, SeccompProfile, SeccompRule } from '../../src/seccomp/profile';
import { DOCKER_CAPS } from './seccomp-docker-caps';
import { AUDIT_ARCH, checkProgram, runFilter, verdict } from './seccomp-vm';

const KERNEL: [number, number] = [6, 18];
const EPERM = 'ERRNO(1)';
const ENOSYS = 'ERRNO(38)';

const CLONE = { NEWNS: 0x20000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000 };
const SIGCHLD = 17;
const CLONE_THREAD_FLAGS = 0x3d0f00; // VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID, as pthread_create passes

function filterFor(arch: Arch, profile: SeccompProfile, capabilities: string[] = DOCKER_CAPS, kernel = KERNEL) {
  const prog = compileSeccomp(profile, { arch, capabilities, kernel });
  const info = archInfo(arch);
  return {
    prog,
    nr: (name: string) => {
      const n = info.syscalls.get(name);
      assert.ok(n !== undefined, `${arch} has no ${name}`);
      return n;
    },
    /** The verdict for a raw number. */
    number: (nr: number, args: (number | bigint)[] = []) => verdict(runFilter(prog, { arch: info.auditArch, nr, args: args.map(BigInt) })),
    /** The verdict for a call by name. */
    call(name: string, ...args: (number | bigint)[]) {
      return this.number(this.nr(name), args);
    },
  };
}

const rule = (names: string[], extra: Partial<SeccompRule> = {}): SeccompRule => ({ names, action: { kind: 'allow' }, ...extra });
const arg = (index: number, op: ArgCondition['op'], value: bigint, valueTwo = 0n): ArgCondition => ({ index, op, value, valueTwo });
const profile = (rules: SeccompRule[], defaultAction: SeccompProfile['defaultAction'] = { kind: 'errno', errno: 1 }): SeccompProfile => ({ defaultAction, architectures: [], rules });

for (const arch of ARCHES) {
  describe(`seccomp compiler: the default profile on ${arch}`, () => {
    const f = filterFor(arch, defaultProfile());
    const admin = filterFor(arch, defaultProfile(), [...DOCKER_CAPS, 'SYS_ADMIN']);
    const info = archInfo(arch);

    it('is a valid program of a few hundred instructions', () => {
      const n = checkProgram(f.prog).length;
      assert.ok(n > 100 && n < 600, `${n} instructions`);
    });

    it('allows what ordinary programs call', () => {
      const calls: [string, ...number[]][] = [
        ['read'], ['write'], ['openat'], ['close'], ['mmap'], ['mprotect'], ['futex'], ['execve'], ['exit_group'], ['rt_sigaction'],
        ['getrandom'], ['epoll_pwait'], ['setuid'], ['setgroups'], ['capset'], ['prctl'], ['ptrace'], ['seccomp'], ['chroot'],
        ['clone', SIGCHLD], ['clone', CLONE_THREAD_FLAGS], ['unshare', 0x400 /* CLONE_FILES */],
        ['socket', 2 /* AF_INET */], ['socket', 1 /* AF_UNIX */], ['socket', 16 /* AF_NETLINK */], ['socket', 39], ['socket', 44 /* AF_XDP */],
        ['personality', 0], ['personality', 8], ['personality', 0x20000], ['personality', 0x20008], ['personality', 0xffffffff],
      ];
      assert.deepEqual(calls.map(([name, ...args]) => [name, ...args, f.call(name, ...args)]), calls.map((c) => [...c, 'ALLOW']));
    });

    it('refuses the rest of the table with EPERM', () => {
      const calls: [string, ...number[]][] = [
        ['mount'], ['umount2'], ['pivot_root'], ['keyctl'], ['add_key'], ['request_key'], ['kexec_load'], ['init_module'],
        ['finit_module'], ['delete_module'], ['reboot'], ['swapon'], ['bpf'], ['perf_event_open'], ['setns'], ['acct'],
        ['settimeofday'], ['clock_settime'], ['open_by_handle_at'], ['io_uring_setup'], ['userfaultfd'], ['mbind'], ['kcmp'],
        ['syslog'], ['sethostname'], ['vhangup'], ['fsopen'], ['move_mount'],
        ['socket', 38 /* AF_ALG */], ['socket', 40 /* AF_VSOCK */], ['personality', 0x400000 /* READ_IMPLIES_EXEC */],
        ['personality', 0x0040000 /* ADDR_COMPAT_LAYOUT */],
      ];
      assert.deepEqual(calls.map(([name, ...args]) => [name, ...args, f.call(name, ...args)]), calls.map((c) => [...c, EPERM]));
    });

    it('every call of the table is allowed exactly when the allow-list (or a kept capability) names it', () => {
      const conditional = new Set(['clone', 'clone3', 'unshare', 'socket', 'personality']);
      const allowed = new Set([...ALLOWED_FOR_ALL, 'chroot']);
      const wrong = [...info.syscalls]
        .filter(([name]) => !conditional.has(name))
        .map(([name, nr]) => [name, f.number(nr), allowed.has(name) ? 'ALLOW' : EPERM])
        .filter(([, got, want]) => got !== want);
      assert.deepEqual(wrong, []);
    });

    it('numbers above the table get ENOSYS; holes in it get EPERM', () => {
      const high = [info.highest + 1, 1000, 0x3fffffff];
      if (arch === 'aarch64') high.push(0x40000000 | 39, 0xffffffff);
      assert.deepEqual(high.map((nr) => f.number(nr)), high.map(() => ENOSYS));
      const holes = Array.from({ length: info.highest }, (_, nr) => nr).filter((nr) => ![...info.syscalls.values()].includes(nr));
      assert.ok(holes.length > 0);
      assert.deepEqual([...new Set(holes.map((nr) => f.number(nr)))], [EPERM]);
    });

    it('clone3 fails with ENOSYS (glibc then uses clone) unless CAP_SYS_ADMIN is kept', () => {
      assert.equal(f.call('clone3'), ENOSYS);
      assert.equal(admin.call('clone3'), 'ALLOW');
    });

    it('clone and unshare with a namespace flag are refused without CAP_SYS_ADMIN and allowed with it', () => {
      const rows = Object.entries(CLONE).flatMap(([flag, bit]) => [
        [`clone ${flag}`, f.call('clone', bit | SIGCHLD), admin.call('clone', bit | SIGCHLD)],
        [`unshare ${flag}`, f.call('unshare', bit), admin.call('unshare', bit)],
      ]);
      rows.push(['unshare NEWTIME', f.call('unshare', 0x80), admin.call('unshare', 0x80)]);
      assert.deepEqual(rows, rows.map(([what]) => [what, EPERM, 'ALLOW']));
      // The flags are a 64-bit argument: bits above the mask's do not matter.
      assert.equal(f.call('clone', (1n << 40n) | BigInt(SIGCHLD)), 'ALLOW');
      assert.equal(f.call('clone', (1n << 40n) | BigInt(CLONE.NEWUSER)), EPERM);
    });

    it('each kept capability opens its calls, and only then', () => {
      const rows: [string, string][] = [
        ['SYS_ADMIN', 'mount'], ['SYS_ADMIN', 'setns'], ['SYS_ADMIN', 'sethostname'], ['SYS_BOOT', 'reboot'],
        ['SYS_MODULE', 'init_module'], ['SYS_MODULE', 'delete_module'], ['SYS_PACCT', 'acct'], ['SYS_PTRACE', 'kcmp'],
        ['SYS_PTRACE', 'pidfd_getfd'], ['SYS_TIME', 'settimeofday'], ['SYS_TIME', 'clock_settime'], ['SYS_TTY_CONFIG', 'vhangup'],
        ['SYS_NICE', 'mbind'], ['SYS_NICE', 'set_mempolicy'], ['SYSLOG', 'syslog'], ['BPF', 'bpf'], ['PERFMON', 'perf_event_open'],
        ['DAC_READ_SEARCH', 'open_by_handle_at'],
      ];
      if (arch === 'x86_64') rows.push(['SYS_RAWIO', 'iopl'], ['SYS_RAWIO', 'ioperm']);
      const got = rows.map(([cap, name]) => [cap, name, f.call(name), filterFor(arch, defaultProfile(), [...DOCKER_CAPS, cap]).call(name)]);
      assert.deepEqual(got, rows.map(([cap, name]) => [cap, name, EPERM, 'ALLOW']));
      assert.equal(filterFor(arch, defaultProfile(), []).call('chroot'), EPERM, 'chroot needs CAP_SYS_CHROOT');
    });

    it('a call of another architecture\'s ABI kills the process', () => {
      const others = arch === 'x86_64' ? [AUDIT_ARCH.i386, AUDIT_ARCH.aarch64] : [AUDIT_ARCH.arm, AUDIT_ARCH.x86_64];
      assert.deepEqual(others.map((a) => verdict(runFilter(f.prog, { arch: a, nr: 0 }))), ['KILL_PROCESS', 'KILL_PROCESS']);
    });
  });
}

describe('seccomp compiler: x32 on x86_64', () => {
  it('x32 numbers (bit 30 set) kill the process, even where the default action allows everything', () => {
    for (const p of [defaultProfile(), profile([rule(['mount'], { action: { kind: 'errno', errno: 1 } })], { kind: 'allow' })]) {
      const f = filterFor('x86_64', p);
      assert.deepEqual([0x40000000 | 39, 0x40000000 | 165, 0x40000000 | 512, 0x7fffffff].map((nr) => f.number(nr)), Array(4).fill('KILL_PROCESS'));
    }
  });

  it('nr -1 (a tracer skipping the call) is not mistaken for x32: it is an unknown number', () => {
    assert.equal(filterFor('x86_64', defaultProfile()).number(0xffffffff), ENOSYS);
  });
});

describe('seccomp compiler: argument conditions', () => {
  const TESTED = [0n, 1n, 0xfffffffen, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1ffffffffn, 0x8000000000000000n, 0x123456789abcdef0n, 0xffffffffffffffffn];
  const M64 = (1n << 64n) - 1n;
  const near = (v: bigint) => [v - 1n, v, v + 1n, v ^ 0xffffffffn, v ^ (0xffffffffn << 32n), v + (1n << 32n), v - (1n << 32n)].map((x) => x & M64);
  const holds: Record<Exclude<ArgCondition['op'], 'SCMP_CMP_MASKED_EQ'>, (a: bigint, v: bigint) => boolean> = {
    SCMP_CMP_EQ: (a, v) => a === v,
    SCMP_CMP_NE: (a, v) => a !== v,
    SCMP_CMP_LT: (a, v) => a < v,
    SCMP_CMP_LE: (a, v) => a <= v,
    SCMP_CMP_GT: (a, v) => a > v,
    SCMP_CMP_GE: (a, v) => a >= v,
  };

  for (const [op, reference] of Object.entries(holds)) {
    it(`${op} compares the whole 64-bit argument, high and low halves`, () => {
      for (const v of TESTED) {
        const f = filterFor('x86_64', profile([rule(['getpid'], { args: [arg(3, op as ArgCondition['op'], v)] })]));
        const wrong = near(v).filter((a) => (f.call('getpid', 0, 0, 0, a) === 'ALLOW') !== reference(a, v));
        assert.deepEqual(wrong.map((a) => `0x${a.toString(16)}`), [], `${op} 0x${v.toString(16)}`);
      }
    });
  }

  it('SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo, on both halves', () => {
    const cases: [bigint, bigint][] = [[0x7e020000n, 0n], [0xff00000000n, 0x1200000000n], [0xffffffffffffffffn, 0x123456789abcdef0n], [0x1n, 0x1n]];
    for (const [mask, datum] of cases) {
      const f = filterFor('aarch64', profile([rule(['getpid'], { args: [arg(5, 'SCMP_CMP_MASKED_EQ', mask, datum)] })]));
      const values = [...TESTED, datum, datum | ~mask & M64, datum ^ 1n, datum ^ (1n << 36n)].flatMap(near);
      const wrong = values.filter((a) => (f.call('getpid', 0, 0, 0, 0, 0, a) === 'ALLOW') !== ((a & mask) === datum));
      assert.deepEqual(wrong, [], `mask 0x${mask.toString(16)} datum 0x${datum.toString(16)}`);
    }
  });

  it('conditions on different arguments must all hold; on the same argument, any one does (as runc)', () => {
    const f = filterFor('x86_64', profile([
      rule(['getpid'], { args: [arg(0, 'SCMP_CMP_EQ', 1n), arg(1, 'SCMP_CMP_EQ', 2n)] }),
      rule(['getppid'], { args: [arg(0, 'SCMP_CMP_EQ', 1n), arg(0, 'SCMP_CMP_EQ', 3n)] }),
    ]));
    assert.deepEqual([f.call('getpid', 1, 2), f.call('getpid', 1, 3), f.call('getpid', 0, 2)], ['ALLOW', EPERM, EPERM]);
    assert.deepEqual([f.call('getppid', 1), f.call('getppid', 3), f.call('getppid', 2)], ['ALLOW', 'ALLOW', EPERM]);
  });

  it('the first rule that holds decides; a rule after one without conditions changes nothing', () => {
    const f = filterFor('x86_64', profile([
      rule(['getpid'], { args: [arg(0, 'SCMP_CMP_EQ', 1n)], action: { kind: 'errno', errno: 5 } }),
      rule(['getpid']),
      rule(['getpid'], { action: { kind: 'errno', errno: 7 } }),
    ]));
    assert.deepEqual([f.call('getpid', 1), f.call('getpid', 2)], ['ERRNO(5)', 'ALLOW']);
  });
});

describe('seccomp compiler: actions, conditions on the target, limits', () => {
  it('encodes every action as the kernel defines it', () => {
    const actions: [SeccompRule['action'], string, number][] = [
      [{ kind: 'allow' }, 'ALLOW', 0x7fff0000], [{ kind: 'log' }, 'LOG', 0x7ffc0000], [{ kind: 'errno', errno: 13 }, 'ERRNO(13)', 0x0005000d],
      [{ kind: 'trap' }, 'TRAP', 0x00030000], [{ kind: 'trace', data: 42 }, 'TRACE(42)', 0x7ff0002a],
      [{ kind: 'killThread' }, 'KILL_THREAD', 0], [{ kind: 'killProcess' }, 'KILL_PROCESS', 0x80000000],
    ];
    for (const [action, name, value] of actions) {
      assert.equal(actionValue(action), value, name);
      assert.equal(filterFor('aarch64', profile([rule(['getpid'], { action })])).call('getpid'), name);
      assert.equal(filterFor('aarch64', profile([], action)).call('getpid'), name);
    }
  });

  it('a default action that lets calls through lets unknown numbers through too; a refusing one gives them ENOSYS', () => {
    assert.equal(filterFor('x86_64', profile([], { kind: 'allow' })).number(1000), 'ALLOW');
    assert.equal(filterFor('x86_64', profile([], { kind: 'log' })).number(1000), 'LOG');
    assert.equal(filterFor('x86_64', profile([], { kind: 'killProcess' })).number(1000), ENOSYS);
    assert.equal(filterFor('x86_64', profile([], { kind: 'killProcess' })).call('getpid'), 'KILL_PROCESS');
  });

  it('includes and excludes: architectures, capabilities (all for includes, any for excludes), minimum kernel', () => {
    const p = profile([
      rule(['getpid'], { includes: { arches: ['amd64'] } }),
      rule(['getppid'], { includes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } }),
      rule(['gettid'], { excludes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } }),
      rule(['getuid'], { includes: { minKernel: [6, 8] } }),
      rule(['getgid'], { excludes: { minKernel: [6, 8] } }),
      rule(['geteuid'], { excludes: { arches: ['arm64'] } }),
    ]);
    const see = (arch: Arch, caps: string[], kernel: [number, number]) => {
      const f = filterFor(arch, p, caps, kernel);
      return ['getpid', 'getppid', 'gettid', 'getuid', 'getgid', 'geteuid'].map((n) => (f.call(n) === 'ALLOW' ? n : '-')).join(' ');
    };
    assert.equal(see('x86_64', [], [6, 8]), 'getpid - gettid getuid - geteuid');
    assert.equal(see('aarch64', ['SYS_ADMIN'], [6, 7]), '- - - - getgid -');
    assert.equal(see('aarch64', ['CAP_SYS_ADMIN', 'net_admin'], [7, 0]), '- getppid - getuid - -');
  });

  it('names the target architecture lacks are skipped', () => {
    const f = filterFor('aarch64', profile([rule(['open', 'arch_prctl', 'openat'])]));
    assert.equal(f.call('openat'), 'ALLOW');
  });

  it('emits long jumps when a branch spans more than 255 instructions, and decides every call right', () => {
    const names = [...archInfo('x86_64').syscalls.keys()];
    const p = profile(names.map((name, i) => rule([name], { args: [arg(0, 'SCMP_CMP_EQ', BigInt(i))] })));
    const f = filterFor('x86_64', p);
    const insns = checkProgram(f.prog);
    assert.ok(insns.some((i) => i.code === 0x05), 'no BPF_JA in the program');
    assert.ok(insns.length > 2000, `${insns.length} instructions`);
    const wrong = names.filter((name, i) => f.call(name, i) !== 'ALLOW' || f.call(name, i + 1) !== EPERM);
    assert.deepEqual(wrong, []);
    assert.equal(f.number(1000), ENOSYS);
  });

  it('refuses a program longer than the kernel takes, and an unknown capability', () => {
    const names = [...archInfo('x86_64').syscalls.keys()];
    const p = profile(names.map((name) => rule([name], { args: [arg(0, 'SCMP_CMP_EQ', 1n), arg(1, 'SCMP_CMP_EQ', 2n)] })));
    assert.throws(() => compileSeccomp(p, { arch: 'x86_64', capabilities: [], kernel: KERNEL }), {
      message: 'seccomp: the filter for x86_64 needs 4260 BPF instructions; the kernel takes at most 4096 (fewer rules with argument conditions would fit)',
    });
    assert.throws(() => compileSeccomp(defaultProfile(), { arch: 'x86_64', capabilities: ['CAP_FLY'] }), { message: 'seccomp: unknown capability "CAP_FLY"' });
  });
});
