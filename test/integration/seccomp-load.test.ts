// The seccomp filter on the real kernel: the default profile compiled here, handed to nsvisor-init on an fd, and calls refused with the right errno.
import { strict as assert } from 'assert';
import { spawn, SpawnOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { capabilityMask } from '../../src/config/capabilities';
import { initPath } from '../../src/native';
import { decodeRecords, StatusRecord } from '../../src/process/status-records';
import { archInfo, compileSeccomp, defaultProfile, hostArch, SeccompProfile } from '../../src/seccomp';
import { DOCKER_CAPS } from '../unit/seccomp-docker-caps';
import { requireRoot, SLOWDOWN } from './helpers';

/** Docker's default set (no CAP_SYS_ADMIN) as nsvisor-init's --caps mask. */
const DOCKER_CAPS_MASK = capabilityMask(DOCKER_CAPS);
const PYTHON = '/usr/bin/python3';

/** Runs each probe [label, nr, ...args] in a child of its own (so an unshare or a kill affects only it) and prints
    {label: "ok" | errno name | signal name}. A probe labelled clone* that succeeds reaps the clone. */
const PROBE = `
import ctypes, errno, json, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}
for label, nr, *args in json.loads(sys.argv[1]):
    pid = os.fork()
    if pid == 0:
        argv = [ctypes.c_char_p(a.encode()) if isinstance(a, str) else ctypes.c_ulong(a % 2**64) for a in args]
        r = libc.syscall(ctypes.c_long(nr), *argv)
        e = ctypes.get_errno()
        if r == 0 and label.startswith('clone'): os._exit(0)
        if r > 0 and label.startswith('clone'): os.waitpid(r, 0)
        os._exit(0 if r >= 0 else e)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status): out[label] = signal.Signals(os.WTERMSIG(status)).name
    else: out[label] = 'ok' if os.WEXITSTATUS(status) == 0 else errno.errorcode[os.WEXITSTATUS(status)]
print(json.dumps(out))
`;

interface InitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  records: StatusRecord[];
}

/** Runs nsvisor-init ARGS -- CMD with `program` written to its fd 3 (a socket pair, read to its end) and its status
    pipe on fd 4. */
function runInit(args: string[], cmd: string[], program: Buffer | null, opts: SpawnOptions = {}): Promise<InitResult> {
  const seccomp = program ? ['--seccomp-fd', '3'] : [];
  const child = spawn(initPath, [...seccomp, '--status-fd', '4', ...args, '--', ...cmd], { ...opts, stdio: ['ignore', 'pipe', 'pipe', program ? 'pipe' : 'ignore', 'pipe'] });
  if (program) {
    const fd3 = child.stdio[3] as NodeJS.WritableStream;
    // nsvisor-init stops reading a program longer than the kernel takes and closes its end.
    fd3.on('error', (e: NodeJS.ErrnoException) => assert.ok(e.code === 'ECONNRESET' || e.code === 'EPIPE', e.message));
    fd3.end(program);
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const status: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  (child.stdio[4] as NodeJS.ReadableStream).on('data', (d: Buffer) => status.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000 * SLOWDOWN);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const records = decodeRecords(Buffer.concat(status)).records;
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), records });
    });
  });
}

const arch = hostArch();
const nr = (name: string) => archInfo(arch).syscalls.get(name)!;
const filter = (caps: string[], profile: SeccompProfile = defaultProfile()) => compileSeccomp(profile, { arch, capabilities: caps });

const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;
const missing = '/nonexistent-nsvisor-seccomp-test';

/** The attempts: each is refused by the filter with the first errno; without a filter the kernel answers otherwise. */
function probes(): [string, number, ...(number | string)[]][] {
  const list: [string, number, ...(number | string)[]][] = [
    ['mount', nr('mount'), 'none', missing, 'tmpfs', 0, 0],
    ['umount2', nr('umount2'), missing, 0],
    ['unshare(CLONE_NEWUSER)', nr('unshare'), CLONE_NEWUSER],
    ['clone(CLONE_NEWUSER)', nr('clone'), CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0],
    ['setns', nr('setns'), -1, 0],
    ['keyctl', nr('keyctl'), 9999],
    ['kexec_load', nr('kexec_load'), 0, 0, 0, 0xdead0000],
    ['init_module', nr('init_module'), 0, 0, ''],
    ['personality(READ_IMPLIES_EXEC)', nr('personality'), 0x400000],
    ['socket(AF_ALG)', nr('socket'), 38, 5, 0],
    ['clone3', nr('clone3'), 0, 0],
    ['number 1000', 1000],
    ['getpid', nr('getpid')],
  ];
  if (arch === 'x86_64') list.push(['x32 getpid', 0x40000000 | nr('getpid')]);
  return list;
}

async function probe(args: string[], program: Buffer | null): Promise<Record<string, string>> {
  const r = await runInit(args, [PYTHON, '-c', PROBE, JSON.stringify(probes())], program);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const stepOf = (r: InitResult) => r.records.find((rec) => rec.kind === 'error') as Extract<StatusRecord, { kind: 'error' }> | undefined;

describe('seccomp: nsvisor-init installs the compiled filter (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);

  it('the default profile refuses with EPERM, gives ENOSYS to clone3 and unknown numbers, kills x32; without it the kernel answers otherwise', async () => {
    // Both runs keep every capability, so that only the filter differs: it is compiled for Docker's default set.
    const filtered = await probe([], filter(DOCKER_CAPS));
    const plain = await probe([], null);
    const expected: Record<string, string> = {
      mount: 'EPERM', umount2: 'EPERM', 'unshare(CLONE_NEWUSER)': 'EPERM', 'clone(CLONE_NEWUSER)': 'EPERM', setns: 'EPERM',
      keyctl: 'EPERM', kexec_load: 'EPERM', init_module: 'EPERM', 'personality(READ_IMPLIES_EXEC)': 'EPERM',
      'socket(AF_ALG)': 'EPERM', clone3: 'ENOSYS', 'number 1000': 'ENOSYS', getpid: 'ok',
    };
    if (arch === 'x86_64') expected['x32 getpid'] = 'SIGSYS';
    assert.deepEqual(filtered, expected);
    assert.deepEqual(
      { mount: plain.mount, umount2: plain.umount2, unshare: plain['unshare(CLONE_NEWUSER)'], clone: plain['clone(CLONE_NEWUSER)'], setns: plain.setns, keyctl: plain.keyctl, personality: plain['personality(READ_IMPLIES_EXEC)'], clone3: plain.clone3, getpid: plain.getpid },
      { mount: 'ENOENT', umount2: 'ENOENT', unshare: 'ok', clone: 'ok', setns: 'EBADF', keyctl: 'ENOTSUP', personality: 'ok', clone3: 'EINVAL', getpid: 'ok' },
    );
    // These depend on the kernel's build (no kexec, no modules: ENOSYS), but it is never the filter's EPERM or SIGSYS.
    for (const label of ['kexec_load', 'init_module', 'socket(AF_ALG)', 'x32 getpid']) {
      if (label in plain) assert.ok(plain[label] !== filtered[label], `${label}: ${plain[label]} without the filter`);
    }
    assert.equal(plain['number 1000'], 'ENOSYS', 'the kernel has no call 1000 either: the filter answers as it would');
  });

  it('with CAP_SYS_ADMIN kept, namespaces and mounts are the kernel\'s business again', async () => {
    const r = await probe([], filter([...DOCKER_CAPS, 'SYS_ADMIN']));
    assert.deepEqual(
      [r.mount, r['unshare(CLONE_NEWUSER)'], r['clone(CLONE_NEWUSER)'], r.setns, r.clone3, r.keyctl],
      ['ENOENT', 'ok', 'ok', 'EBADF', 'EINVAL', 'EPERM'],
    );
  });

  it('ordinary programs run under it: sh, python3 and node, threads included (glibc falls back from clone3 to clone)', async () => {
    const program = filter(DOCKER_CAPS);
    const cmds: [string[], string][] = [
      [['sh', '-c', 'echo sh ok; grep -E "^Seccomp" /proc/self/status'], 'sh ok\nSeccomp:\t2\nSeccomp_filters:\t1\n'],
      [[PYTHON, '-c', 'import threading\nt = threading.Thread(target=print, args=("thread ok",)); t.start(); t.join()'], 'thread ok\n'],
      [[process.execPath, '-e', 'const { Worker } = require("worker_threads"); new Worker("console.log(\\"worker ok\\")", { eval: true })'], 'worker ok\n'],
    ];
    for (const [cmd, stdout] of cmds) {
      const r = await runInit(['--caps', DOCKER_CAPS_MASK], cmd, program);
      assert.deepEqual([r.code, r.stdout], [0, stdout], `${cmd.join(' ')}: ${r.stderr}`);
    }
  });

  it('clone3 refused with EPERM instead would break thread creation: ENOSYS is what keeps glibc working', async () => {
    const profile = defaultProfile();
    profile.rules = profile.rules.map((rule) => (rule.names.includes('clone3') && rule.action.kind === 'errno' ? { ...rule, action: { kind: 'errno', errno: 1 } } : rule));
    const r = await runInit([], [PYTHON, '-c', 'import threading\ntry:\n threading.Thread(target=print).start(); print("started")\nexcept RuntimeError as e: print(e)'], filter(DOCKER_CAPS, profile));
    assert.deepEqual([r.code, r.stdout.trim()], [0, "can't start new thread"], r.stderr);
  });

  it('installs early without no_new_privs (setgroups, setuid and capset then pass it) and last with it', async () => {
    const program = filter([]);
    const show = ['sh', '-c', 'id -u; grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; test -e /proc/$$/fd/3 && echo fd 3 open || echo fd 3 closed'];
    for (const nnp of [[], ['--no-new-privs']]) {
      const r = await runInit(['--uid', '65534', '--gid', '65534', '--caps', '0', ...nnp], show, program);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `65534\nCapEff:\t0000000000000000\nNoNewPrivs:\t${nnp.length}\nSeccomp:\t2\nfd 3 closed\n`);
    }
  });

  it('a program handed through a pipe or a file is read the same', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-seccomp-'));
    try {
      const file = path.join(dir, 'filter.bpf');
      fs.writeFileSync(file, filter(DOCKER_CAPS));
      const grep = 'grep "^Seccomp:" /proc/self/status';
      const viaPipe = await runInit([], ['sh', '-c', `cat ${file} | ${initPath} --seccomp-fd 5 -- ${grep} 5<&0`], null);
      assert.deepEqual([viaPipe.code, viaPipe.stdout], [0, 'Seccomp:\t2\n'], viaPipe.stderr);
      const viaFile = await runInit([], ['sh', '-c', `${initPath} --seccomp-fd 5 -- ${grep} 5<${file}`], null);
      assert.deepEqual([viaFile.code, viaFile.stdout], [0, 'Seccomp:\t2\n'], viaFile.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('failures are steps on the status pipe: a program that is not whole instructions, one the kernel refuses, no privilege to install', async () => {
    const touched = path.join(os.tmpdir(), `nsvisor-seccomp-ran-${process.pid}`);
    const cmd = ['touch', touched];
    const cases: [string, Buffer, SpawnOptions, string, number, RegExp][] = [
      ['7 bytes', Buffer.alloc(7), {}, 'read the seccomp filter (--seccomp-fd)', os.constants.errno.EINVAL, /--seccomp-fd 3: Invalid argument/],
      ['too long', Buffer.alloc(8 * 4097), {}, 'read the seccomp filter (--seccomp-fd)', os.constants.errno.EFBIG, /--seccomp-fd 3: File too large/],
      // One instruction, a load: the kernel wants a program that ends in a return.
      ['refused by the kernel', Buffer.from('2000000000000000', 'hex'), {}, 'seccomp(SECCOMP_SET_MODE_FILTER)', os.constants.errno.EINVAL, /^$/],
      ['not root, no no_new_privs', filter([]), { uid: 65534, gid: 65534 }, 'seccomp(SECCOMP_SET_MODE_FILTER)', os.constants.errno.EACCES, /^$/],
    ];
    try {
      for (const [what, program, opts, step, errno, stderr] of cases) {
        const r = await runInit([], cmd, program, opts);
        assert.deepEqual([r.code, stepOf(r)?.step, stepOf(r)?.errno], [125, step, errno], `${what}: ${r.stderr}`);
        assert.match(r.stderr, stderr, what);
        assert.ok(!fs.existsSync(touched), `${what}: the command ran`);
      }
    } finally {
      fs.rmSync(touched, { force: true });
    }
  });

  it('calls the init makes after installing must pass the filter: a profile refusing execve fails at execve', async () => {
    const profile: SeccompProfile = { defaultAction: { kind: 'allow' }, architectures: [], rules: [{ names: ['execve'], action: { kind: 'errno', errno: 1 } }] };
    const r = await runInit([], ['true'], filter([], profile));
    assert.deepEqual([r.code, stepOf(r)?.step, stepOf(r)?.errno], [126, 'execve', os.constants.errno.EPERM], r.stderr);
  });
});
