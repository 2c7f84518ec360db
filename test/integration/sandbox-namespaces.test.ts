// Each namespace type for real: the inode differs from the host's and the sandboxed process sees its own world.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { detectLayout } from '../../src/cgroup/detect';
import { cli, mainPid, mountinfo, nsLink, requireRoot, waitFor, withSandbox } from './helpers';

const ALL = 'pid,mount,uts,ipc,net,user,cgroup,time';

describe('sandbox: namespaces (root, real kernel)', function () {
  before(requireRoot);

  it('creates all eight namespaces: every /proc/PID/ns inode differs from the host', async () => {
    const types = ['pid', 'mnt', 'uts', 'ipc', 'net', 'user', 'cgroup', 'time'];
    await withSandbox({ command: ['sleep', '3600'], isolate: ALL.split(',') as any, mapRoot: true }, async (proc) => {
      const main = await mainPid(proc.pid);
      for (const t of types) {
        // pid and time namespaces apply to the init's children: compare what the main process is in.
        const inner = nsLink(main, t === 'pid' || t === 'time' ? `${t}_for_children` : t);
        assert.notEqual(inner, nsLink('self', t), `${t} namespace of the main process`);
        assert.equal(nsLink(main, t), inner, `${t}: main process and its children share it`);
      }
    });
  });

  it('creates only the namespaces asked for', async () => {
    await withSandbox({ command: ['sleep', '3600'], isolate: ['uts'] }, async (proc) => {
      const main = await mainPid(proc.pid);
      assert.notEqual(nsLink(main, 'uts'), nsLink('self', 'uts'));
      for (const t of ['pid', 'mnt', 'ipc', 'net', 'user', 'cgroup', 'time']) assert.equal(nsLink(main, t), nsLink('self', t), t);
    });
  });

  it('pid: init is PID 1, the command is its child, /proc shows only the sandbox', () => {
    const r = cli(['sandbox', '--', 'sh', '-c', 'echo $$ $PPID; cat /proc/1/cmdline | tr "\\0" " "; echo; ls /proc | grep -c "^[0-9]"']);
    assert.equal(r.code, 0, r.stderr);
    const [ids, init, count] = r.stdout.trim().split('\n');
    assert.equal(ids, '2 1');
    assert.match(init, /^nsvisor-init /);
    assert.ok(Number(count) <= 4, `only init, sh and its pipeline in /proc, saw ${count}`);
  });

  it('uts: hostname and domainname are its own, the host keeps its', () => {
    const r = cli(['sandbox', '--hostname', 'web-1', '--domainname', 'example.internal', '--', 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['web-1', 'example.internal']);
    assert.equal(os.hostname(), fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    assert.notEqual(os.hostname(), 'web-1');
  });

  it('ipc: a System V segment of the host is invisible inside', () => {
    const id = execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }).match(/(\d+)/)![1];
    try {
      assert.match(execFileSync('ipcs', ['-m'], { encoding: 'utf8' }), new RegExp(`\\b${id}\\b`));
      const r = cli(['sandbox', '--', 'ipcs', '-m']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, new RegExp(`\\b${id}\\b`));
    } finally {
      execFileSync('ipcrm', ['-m', id]);
    }
  });

  it('ipc: POSIX message queues are per namespace', () => {
    const hostQueues = fs.mkdtempSync(path.join(os.tmpdir(), 'mq-host-'));
    execFileSync('mount', ['-t', 'mqueue', 'none', hostQueues]);
    try {
      fs.writeFileSync(path.join(hostQueues, 'host-queue'), ''); // creating a file in mqueuefs creates a queue
      // Mounting inside needs CAP_SYS_ADMIN and mount(2), which the defaults take away: privileged.
      const r = cli(['sandbox', '--privileged', '--tmpfs', '/mnt', '--', 'sh', '-c', 'mkdir /mnt/q && mount -t mqueue none /mnt/q && touch /mnt/q/inner && ls /mnt/q']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'inner');
      assert.deepEqual(fs.readdirSync(hostQueues), ['host-queue']);
    } finally {
      execFileSync('umount', [hostQueues]);
      fs.rmdirSync(hostQueues);
    }
  });

  it('time: boottime and monotonic offsets shift what the command sees', () => {
    const node = process.execPath;
    const script = `cat /proc/uptime; ${node} -p "Number(process.hrtime.bigint() / 1000000n)"`;
    const hostMono = () => Number(process.hrtime.bigint() / 1000000n);
    const hostUp = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    // Positive offsets: a negative one may not exceed the host's own uptime (the kernel answers ERANGE).
    const r = cli(['sandbox', '--boottime', '1h', '--monotonic', '2h', '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const [uptimeLine, mono] = r.stdout.trim().split('\n');
    const up = Number(uptimeLine.split(' ')[0]);
    assert.ok(Math.abs(hostUp() + 3600 - up) < 30, `uptime ${up} should be the host's plus an hour (${hostUp()})`);
    assert.ok(Math.abs(Number(mono) - (hostMono() + 7_200_000)) < 30_000, `monotonic ${mono} should be the host's plus two hours`);
    const back = cli(['sandbox', '--boottime', '-5s', '--', 'cat', '/proc/uptime']);
    assert.equal(back.code, 0, back.stderr);
    assert.ok(Math.abs(hostUp() - 5 - Number(back.stdout.split(' ')[0])) < 30, `uptime five seconds behind: ${back.stdout}`);
    const zero = cli(['sandbox', '--boottime', 'fromZero', '--', 'cat', '/proc/uptime']);
    assert.equal(zero.code, 0, zero.stderr);
    assert.ok(Number(zero.stdout.split(' ')[0]) < 10, `uptime from zero: ${zero.stdout}`);
  });

  it('user: the uid map is the one asked for, root inside is the mapped uid outside', async () => {
    const r = cli(['sandbox', '--uid-map', '0:100000:65536', '--gid-map', '0:100000:65536', '--', 'sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -G']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0 100000 65536', '0 100000 65536', '0', '0']);
    await withSandbox({ command: ['sleep', '3600'], userns: { uidMap: '0:100000:65536', gidMap: '0:100000:65536' } }, async (proc) => {
      const status = fs.readFileSync(`/proc/${await mainPid(proc.pid)}/status`, 'utf8');
      assert.match(status, /^Uid:\s+100000\s+100000/m);
    });
  });

  it('user: --user sets the ids of the command inside', () => {
    const r = cli(['sandbox', '--user', '1000:1000', '--', 'sh', '-c', 'id -u; id -g; id -G']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1000', '1000', '1000']);
  });

  it('mount: a mount made inside never appears on the host', async () => {
    const marker = `inside-${process.pid}`;
    await withSandbox({ command: ['sh', '-c', `mount -t tmpfs ${marker} /mnt && sleep 3600`], privileged: true }, async (proc) => {
      const main = await mainPid(proc.pid);
      await waitFor('the mount inside', () => mountinfo(main).includes(marker));
      assert.ok(!mountinfo('self').includes(marker), 'the host sees the sandbox mount');
      assert.ok(!mountinfo(1).includes(marker), 'PID 1 of the host sees the sandbox mount');
    });
    assert.ok(!mountinfo('self').includes(marker));
  });

  it('mount: binds (ro and rw), tmpfs and a read-only root under a new rootfs with pivot_root', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rootfs-'));
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'data-'));
    try {
      for (const l of ['bin', 'lib', 'lib64', 'sbin']) fs.symlinkSync(`usr/${l}`, path.join(root, l));
      const before = mountinfo('self');
      const r = cli([
        'sandbox', '--rootfs', root, '--readonly-root', '--bind', '/usr:/usr:ro', '--bind', `${data}:/data`, '--tmpfs', '/scratch', '--',
        'sh', '-c', 'touch /data/w && echo data-rw; touch /usr/x 2>/dev/null || echo usr-ro; touch /y 2>/dev/null || echo root-ro; ' +
          'touch /scratch/z && echo scratch-rw; echo > /dev/null && echo dev-ok; ' +
          'python3 -c "import os; m, s = os.openpty(); print(os.ttyname(s))"; ls /dev/pts | grep -cx ptmx; ' +
          'cut -d" " -f5 /proc/self/mountinfo | grep -cx /; ls / | grep -c "^root\\|^home"',
      ]);
      assert.equal(r.code, 1, r.stderr); // the last grep finds no host directories
      // A pty of its own devpts: the first one, /dev/pts/0, whatever the host has open.
      assert.deepEqual(r.stdout.trim().split('\n'), ['data-rw', 'usr-ro', 'root-ro', 'scratch-rw', 'dev-ok', '/dev/pts/0', '1', '1', '0']);
      assert.ok(fs.existsSync(path.join(data, 'w')), 'the rw bind wrote through to the host');
      assert.equal(mountinfo('self'), before, 'the host mount table is unchanged');
    } finally {
      fs.rmSync(root, { recursive: true });
      fs.rmSync(data, { recursive: true });
    }
  });

  it('cgroup: the command sees its cgroup as the root', () => {
    const r = cli(['sandbox', '--', 'cat', '/proc/self/cgroup']);
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stdout.trim().split('\n')) assert.match(line, /^\d+:[^:]*:\/$/, line);
    assert.match(r.stdout, /^0::\/$/m);
  });

  it('net: a new network namespace has only lo, and it is up', () => {
    const r = cli(['sandbox', '--net', 'none', '--', 'sh', '-c', 'cat /proc/net/dev | tail -n +3 | cut -d: -f1; ip -o link']);
    assert.equal(r.code, 0, r.stderr);
    const devs = r.stdout.split('\n').filter((l) => /^\s*\w+$/.test(l)).map((l) => l.trim());
    assert.deepEqual([...new Set(devs)], ['lo']);
    assert.match(r.stdout, /lo: <LOOPBACK,UP,LOWER_UP>/);
  });

  it('net: sysfs is the namespace\'s own (only lo in /sys/class/net), read-only, and the cgroup files are still there', () => {
    const hostCgroups = fs.readdirSync('/sys/fs/cgroup').sort();
    const script = 'ls /sys/class/net; echo --; ls /sys/fs/cgroup; echo --; touch /sys/x 2>&1; echo --; stat -c %d /sys';
    const r = cli(['sandbox', '--net', 'none', '--', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const [devs, cgroups, touch, dev] = r.stdout.split('--\n');
    assert.deepEqual(devs.trim().split('\n'), ['lo']);
    assert.notEqual(Number(dev), fs.statSync('/sys').dev, 'a sysfs of its own, not the host\'s');
    const seen = cgroups.trim().split('\n').sort();
    if (detectLayout().kind === 'v2') {
      // Its own cgroup (a root sandbox always has one, for its device allow-list): a cgroup that is not the root has memory.max.
      assert.ok(seen.includes('cgroup.procs') && seen.includes('memory.max'), seen.join(' '));
    } else {
      assert.deepEqual(seen, hostCgroups, 'each hierarchy where the host has it');
    }
    assert.match(touch, /Read-only file system/);
  });
});
