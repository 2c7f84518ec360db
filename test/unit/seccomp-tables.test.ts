// Unit tests of the syscall tables: x86_64 against this machine's kernel header, aarch64 against the generic header with arm64's choices, and the generator.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';

import { archInfo, hostArch, hostKernel } from '../../src/seccomp/arch';
import { renderTables } from '../../src/seccomp/tables/generate';

const X86_64_HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const GENERIC_HEADER = '/usr/include/asm-generic/unistd.h';
/** arm64's choices among the generic table's optional calls (arch/arm64/kernel/Makefile.syscalls: renameat newstat
    rlimit memfd_secret; clone3 is optional in headers before 6.11). */
const ARM64_WANTS = ['RENAMEAT', 'NEW_STAT', 'SET_GET_RLIMIT', 'SYS_CLONE3', 'MEMFD_SECRET'].map((w) => `-D__ARCH_WANT_${w}`);

/** The calls of `header` that the table lacks or numbers differently; and those the table has beyond the header's highest. */
function compare(table: ReadonlyMap<string, number>, header: Map<string, number>) {
  const wrong = [...header].filter(([name, nr]) => table.get(name) !== nr).map(([name, nr]) => `${name}: header ${nr}, table ${table.get(name)}`);
  const top = Math.max(...header.values());
  const notNewer = [...table].filter(([name, nr]) => !header.has(name) && nr <= top).map(([name]) => name);
  return { wrong, notNewer, top };
}

/** __NR_* of the generic header as a 64-bit arm64 build sees them, evaluated by the C preprocessor. */
function genericHeader(): Map<string, number> {
  const defines = spawnSync('cpp', ['-dM', ...ARM64_WANTS, '-include', 'asm-generic/unistd.h', '/dev/null'], { encoding: 'utf8' });
  assert.equal(defines.status, 0, defines.stderr);
  const names = [...defines.stdout.matchAll(/^#define __NR_(\w+) /gm)].map((m) => m[1]).filter((n) => n !== 'syscalls' && n !== 'arch_specific_syscall');
  const input = `#include <asm-generic/unistd.h>\n${names.map((n) => `@${n}@ __NR_${n}`).join('\n')}\n`;
  const expanded = spawnSync('cpp', ['-P', ...ARM64_WANTS, '-'], { input, encoding: 'utf8' });
  assert.equal(expanded.status, 0, expanded.stderr);
  const out = new Map<string, number>();
  for (const m of expanded.stdout.matchAll(/^@(\w+)@ (.*)$/gm)) {
    // Values are numbers, or sums such as (223 + 1) in older headers.
    assert.match(m[2], /^[\d\s()+]+$/, `${m[1]}: ${m[2]}`);
    out.set(m[1], m[2].match(/\d+/g)!.map(Number).reduce((a, b) => a + b, 0));
  }
  return out;
}

function skip(test: Mocha.Context, why: string): never {
  console.log(`    skipped: ${why}`);
  test.skip();
}

describe('seccomp syscall tables', () => {
  it('x86_64 numbers every call of this machine\'s kernel header alike; what it adds is newer than the header', function () {
    if (!fs.existsSync(X86_64_HEADER)) skip(this, `${X86_64_HEADER} is missing (Debian: apt-get install linux-libc-dev)`);
    const header = new Map([...fs.readFileSync(X86_64_HEADER, 'utf8').matchAll(/^#define __NR_(\w+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    assert.ok(header.size > 300, `only ${header.size} calls read from ${X86_64_HEADER}`);
    const r = compare(archInfo('x86_64').syscalls, header);
    assert.deepEqual(r.wrong, []);
    // uretprobe (335) and uprobe (336) came after 6.1 into the gap below 424.
    assert.deepEqual(r.notNewer.sort(), ['uprobe', 'uretprobe']);
  });

  it('aarch64 numbers every call of the generic header (with arm64\'s optional calls) alike; what it adds is newer', function () {
    if (!fs.existsSync(GENERIC_HEADER)) skip(this, `${GENERIC_HEADER} is missing (Debian: apt-get install linux-libc-dev)`);
    if (spawnSync('cpp', ['--version']).status !== 0) skip(this, 'no C preprocessor (cpp) to evaluate the header with');
    const header = genericHeader();
    assert.ok(header.size > 280, `only ${header.size} calls read from ${GENERIC_HEADER}`);
    const r = compare(archInfo('aarch64').syscalls, header);
    assert.deepEqual(r.wrong, []);
    assert.deepEqual(r.notNewer, []);
  });

  it('pins well-known aarch64 numbers, arm64\'s optional calls included, and the calls it does not have', () => {
    const t = archInfo('aarch64').syscalls;
    const pinned: Record<string, number> = {
      io_setup: 0, getcwd: 17, fcntl: 25, ioctl: 29, mknodat: 33, renameat: 38, umount2: 39, mount: 40, openat: 56,
      close: 57, lseek: 62, read: 63, write: 64, newfstatat: 79, fstat: 80, exit_group: 94, unshare: 97, futex: 98,
      kexec_load: 104, init_module: 105, ptrace: 117, kill: 129, reboot: 142, setuid: 146, getrlimit: 163,
      setrlimit: 164, prctl: 167, getpid: 172, socket: 198, keyctl: 219, clone: 220, execve: 221, mmap: 222,
      personality: 92, wait4: 260, prlimit64: 261, seccomp: 277, bpf: 280, clone3: 435, memfd_secret: 447,
      cachestat: 451, fchmodat2: 452, mseal: 462,
    };
    assert.deepEqual(Object.fromEntries(Object.keys(pinned).map((n) => [n, t.get(n)])), pinned);
    for (const absent of ['open', 'stat', 'fork', 'pipe', 'dup2', 'arch_prctl', 'epoll_wait', 'fstatat64', 'fcntl64', 'sync_file_range2']) {
      assert.equal(t.get(absent), undefined, absent);
    }
  });

  it('pins x86_64 numbers and the highest number of each table', () => {
    const t = archInfo('x86_64').syscalls;
    assert.deepEqual([t.get('read'), t.get('mount'), t.get('keyctl'), t.get('clone'), t.get('clone3'), t.get('personality')], [0, 165, 250, 56, 435, 135]);
    assert.equal(archInfo('x86_64').highest, 471);
    assert.equal(archInfo('aarch64').highest, 471);
  });

  it('hostArch names this machine; hostKernel reads a release string', () => {
    assert.equal(hostArch(), process.arch === 'x64' ? 'x86_64' : 'aarch64');
    assert.deepEqual(hostKernel('6.18.44-fc-v1045'), [6, 18]);
    assert.throws(() => hostKernel('weird'), /cannot read a kernel version from "weird"/);
  });

  it('the generator writes each table from libseccomp\'s CSV, leaving out calls an ABI lacks (PNR)', () => {
    const csv = [
      '#syscall (v7.1.0-rc4 2026-05-19),x86,x86_kver,x86_64,x86_64_kver,aarch64,aarch64_kver',
      'read,3,SCMP_KV_UNDEF,0,SCMP_KV_UNDEF,63,SCMP_KV_UNDEF',
      'open,5,SCMP_KV_UNDEF,2,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF',
      'chown32,212,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF',
    ].join('\n');
    const files = renderTables(csv, 'libseccomp abc');
    assert.deepEqual(Object.keys(files).sort(), ['aarch64.ts', 'names.ts', 'x86-64.ts']);
    assert.match(files['x86-64.ts'], /from libseccomp's src\/syscalls.csv \(libseccomp abc; kernel v7.1.0-rc4 2026-05-19\)/);
    assert.match(files['x86-64.ts'], /= \{\n {2}read: 0, open: 2,\n\};\n$/);
    assert.match(files['aarch64.ts'], /= \{\n {2}read: 63,\n\};\n$/);
    assert.match(files['names.ts'], /= \[\n {2}'chown32', 'open', 'read',\n\];\n$/);
    assert.throws(() => renderTables('name,x86_64\nread,0', 'x'), /expected a header cell "#syscall \(KERNEL VERSION\)", got "name"/);
  });
});
