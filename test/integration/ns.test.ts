// Integration tests of `nsvisor ns` as root against real namespaces made with util-linux unshare.
import { strict as assert } from 'assert';
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { NsEntry, NS_TYPES } from '../../src/ns/types';

const repo = path.resolve(__dirname, '..', '..', '..');
const ino = (p: string): number => fs.statSync(p).ino;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nsvisor(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repo, 'bin', 'nsvisor'), ...args], { cwd: repo }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

async function nsJson(...args: string[]): Promise<NsEntry[]> {
  const r = await nsvisor('ns', ...args, '--json');
  assert.equal(r.code, 0, `nsvisor ns ${args.join(' ')} --json failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function readChildren(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The pid of unshare's forked child once it runs `sleep` in its new pid namespace. */
async function waitForSleep(unshare: ChildProcess, stderr: () => string): Promise<number> {
  const ourPidNs = fs.readlinkSync('/proc/self/ns/pid');
  for (let i = 0; i < 250; i++) {
    if (unshare.exitCode !== null || unshare.signalCode !== null) throw new Error(`unshare ended early: ${stderr()}`);
    for (const child of readChildren(unshare.pid!)) {
      try {
        const comm = fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim();
        if (comm === 'sleep' && fs.readlinkSync(`/proc/${child}/ns/pid`) !== ourPidNs) return child;
      } catch {
        // not there yet, or already gone: look again
      }
    }
    await sleep(20);
  }
  throw new Error(`unshare's child did not start sleep in a new pid namespace: ${stderr()}`);
}

describe('nsvisor ns against real namespaces (root)', function () {
  this.timeout(30000);

  const hostUser = ino('/proc/self/ns/user');
  const hostPid = ino('/proc/self/ns/pid');
  let unshare: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let sleepPid = 0;
  let ns: Record<string, number> = {};

  before(async () => {
    assert.equal(process.getuid!(), 0, 'these tests create namespaces and must run as root');
    let err = '';
    unshare = spawn(
      'unshare',
      ['--user', '--map-root-user', '--pid', '--fork', '--kill-child', '--mount-proc',
        '--uts', '--ipc', '--net', '--cgroup', '--time', 'sleep', '900'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    unshare.stderr!.on('data', (d) => (err += d));
    exited = new Promise((resolve) => unshare!.on('exit', () => resolve()));
    sleepPid = await waitForSleep(unshare, () => err);
    ns = Object.fromEntries(NS_TYPES.map((t) => [t, ino(`/proc/${sleepPid}/ns/${t}`)]));
  });

  after(async () => {
    if (sleepPid) {
      try {
        process.kill(sleepPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (unshare && unshare.exitCode === null && unshare.signalCode === null) unshare.kill('SIGKILL');
    await exited;
  });

  it('made the sleeping process a fresh namespace of every type', () => {
    for (const type of NS_TYPES) assert.notEqual(ns[type], ino(`/proc/self/ns/${type}`), type);
  });

  it('`nsvisor ns PID` reports all 8 namespaces of the pid with their real inodes', async () => {
    const rows = await nsJson(String(sleepPid));
    assert.deepEqual(rows.map((r) => r.type).sort(), [...NS_TYPES].sort());
    for (const r of rows) {
      assert.equal(r.inode, ns[r.type], r.type);
      assert.equal(fs.readlinkSync(`/proc/${sleepPid}/ns/${r.type}`), `${r.type}:[${r.inode}]`);
    }
  });

  it('shows the new pid namespace owned by the new user namespace, child of the host pid namespace', async () => {
    const pidRow = (await nsJson(String(sleepPid))).find((r) => r.type === 'pid')!;
    assert.deepEqual(pidRow, {
      inode: ns.pid, type: 'pid', nprocs: 1, pid: sleepPid, user: 'root', command: 'sleep 900',
      userns: ns.user, parent: hostPid, ownerUid: null,
    });
  });

  it('shows the new user namespace as child of the host user namespace, created by uid 0', async () => {
    const userRow = (await nsJson(String(sleepPid))).find((r) => r.type === 'user')!;
    assert.equal(userRow.inode, ns.user);
    assert.equal(userRow.parent, hostUser);
    assert.equal(userRow.userns, hostUser);
    assert.equal(userRow.ownerUid, 0);
    // unshare itself entered the new user namespace before forking sleep: two processes, unshare the lower pid.
    assert.equal(userRow.nprocs, 2);
    assert.equal(userRow.pid, Math.min(unshare!.pid!, sleepPid));
    assert.match(userRow.command, userRow.pid === unshare!.pid ? /^unshare --user/ : /^sleep 900$/);
  });

  it('gives the other namespaces the new user namespace as owner, and no parent or owner uid', async () => {
    const rows = await nsJson(String(sleepPid));
    for (const r of rows.filter((x) => x.type !== 'user' && x.type !== 'pid')) {
      assert.equal(r.userns, ns.user, r.type);
      assert.equal(r.parent, null, r.type);
      assert.equal(r.ownerUid, null, r.type);
      // unshare entered mnt, uts, ipc, net and cgroup itself; time (like pid) only for its child.
      assert.equal(r.nprocs, r.type === 'time' ? 1 : 2, r.type);
    }
  });

  it('prints the same as an aligned table', async () => {
    const r = await nsvisor('ns', String(sleepPid));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0].trim().split(/ +/), ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'USERNS', 'PARENT', 'OWNER', 'COMMAND']);
    assert.equal(lines.length, 1 + NS_TYPES.length);
    const pidLine = lines.find((l) => l.startsWith(`${ns.pid} `));
    assert.ok(pidLine, `no line for the pid namespace ${ns.pid} in:\n${r.stdout}`);
    assert.deepEqual(pidLine.trim().split(/ +/), [
      String(ns.pid), 'pid', '1', String(sleepPid), 'root', String(ns.user), String(hostPid), '-', 'sleep', '900',
    ]);
    // Every column starts at the same offset on every line.
    const commandAt = lines[0].indexOf('COMMAND');
    for (const l of lines.slice(1)) assert.equal(l[commandAt - 1], ' ', l);
  });

  it('`nsvisor ns` lists the new namespaces among all, each once, with nprocs >= 1', async () => {
    const rows = await nsJson();
    for (const type of NS_TYPES) {
      const matches = rows.filter((r) => r.inode === ns[type]);
      assert.equal(matches.length, 1, `${type} namespace ${ns[type]} listed ${matches.length} times`);
      assert.equal(matches[0].type, type);
      assert.ok(matches[0].nprocs >= 1);
    }
    const pidRow = rows.find((r) => r.inode === ns.pid)!;
    assert.equal(pidRow.parent, hostPid);
    assert.equal(pidRow.userns, ns.user);
    const ourPid = rows.find((r) => r.inode === hostPid)!;
    assert.equal(ourPid.type, 'pid');
    assert.ok(ourPid.nprocs >= 2, 'the host pid namespace holds at least this test and unshare');
    assert.deepEqual(rows.map((r) => r.inode), [...rows.map((r) => r.inode)].sort((a, b) => a - b));
  });

  it('fails with exit 1 for a pid that does not exist', async () => {
    const pidMax = fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim(); // pids stay below pid_max
    const r = await nsvisor('ns', pidMax);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `nsvisor: ns ${pidMax}: no process with pid ${pidMax}\n`);
  });

  it('fails with exit 3 for a service name while no supervisor runs', async () => {
    assert.equal(fs.existsSync('/run/nsvisor/nsvisor.sock'), false, 'a supervisor control socket exists on this host');
    const r = await nsvisor('ns', 'web');
    assert.equal(r.code, 3);
    assert.equal(
      r.stderr,
      'nsvisor: ns web: no supervisor control socket at /run/nsvisor/nsvisor.sock (service names need a running `nsvisor run`)\n',
    );
  });

  it('explains itself with --help', async () => {
    const r = await nsvisor('ns', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: nsvisor ns \[options\] \[PID\|NAME\]/);
    assert.match(r.stdout, /--json/);
    assert.match(r.stdout, /USERNS +inode of the owning user namespace/);
  });
});
