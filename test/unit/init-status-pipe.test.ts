// nsvisor-init's status pipe without root: its records, failed steps named on it, and what a closed read end means (under --supervised: the supervisor is gone, so everything below init is killed).
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';

import { addon } from '../../src/native';
import { decodeRecords, StatusRecord } from '../../src/process/status-records';
import { alive, childrenOf, endStarted, INIT, init, waitFor } from './init-tini-helpers';

/** nsvisor-init with fd 3 the write end of a real pipe (as the supervisor gives it); we hold the read end. */
function startWithPipe(args: string[]) {
  const [readFd, writeFd] = addon.pipe();
  const child = spawn(INIT, ['--status-fd', '3', ...args], { stdio: ['pipe', 'pipe', 'pipe', writeFd] });
  fs.closeSync(writeFd);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let open = true;
  const closeRead = () => {
    if (open) fs.closeSync(readFd);
    open = false;
  };
  /** Every record written, once nsvisor-init has gone (EOF). */
  const records = async (): Promise<StatusRecord[]> => {
    await exited;
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(4096);
    for (let n; (n = fs.readSync(readFd, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
    closeRead();
    return decodeRecords(Buffer.concat(chunks)).records;
  };
  return { child, out: () => out, err: () => err, exited, records, closeRead };
}

/** A pid that was ours and is gone now. */
function gonePid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/** Every process below pid, now. */
const below = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...below(c)]);

describe('nsvisor-init: the status pipe', () => {
  const opened: (() => void)[] = [];
  afterEach(() => {
    for (const close of opened.splice(0)) close();
    endStarted();
  });

  it('says it started, that the command runs, and how the command ended, in that order', async () => {
    const s = startWithPipe(['--', 'sh', '-c', 'exit 3']);
    opened.push(s.closeRead);
    assert.equal(await s.exited, 3);
    assert.deepEqual(await s.records(), [{ kind: 'initStarted' }, { kind: 'execOk' }, { kind: 'mainExit', code: 3, signal: null }]);
  });

  it('a failed step is an error record naming it, not a message: execve of a missing command, pidfd_open of a gone pid', async () => {
    const missing = startWithPipe(['--', '/no/such/command']);
    opened.push(missing.closeRead);
    assert.equal(await missing.exited, 127);
    const { ENOENT, ESRCH } = os.constants.errno;
    const error = (step: string, errno: number) => ({ kind: 'error', stepId: addon.stepNames.indexOf(step), step, errno, index: -1 });
    assert.deepEqual(await missing.records(), [{ kind: 'initStarted' }, error('execve', ENOENT)]);
    assert.equal(missing.err(), '', 'the supervisor words it, from the record');
    const pid = gonePid();
    const join = startWithPipe(['--join', String(pid), '--', 'true']);
    opened.push(join.closeRead);
    assert.equal(await join.exited, 125);
    assert.deepEqual(await join.records(), [error('pidfd_open', ESRCH)]);
    // Without a status pipe the same failure is a message with the step's name.
    const r = init(['--join', String(pid), '--', 'true']);
    assert.deepEqual([r.code, r.stderr], [125, `nsvisor-init: pidfd_open(${pid}): No such process\n`]);
  });

  it('--supervised: once the read end closes (the supervisor died), it SIGKILLs everything below it, setsid()ed orphans too, and exits', async () => {
    const script = `(setsid sh -c 'sleep 1000 & exec sleep 1001' &); sleep 1002 & exec sleep 1003`;
    const s = startWithPipe(['--supervised', '--drain', '60000', '--', 'sh', '-c', script]);
    const tree = await waitFor('four sleeps below nsvisor-init', () => {
      const pids = below(s.child.pid!);
      return pids.length === 4 && pids.every((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sleep') ? pids : null;
    });
    assert.ok(new Set(tree.map((p) => fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[3])).size === 2, 'the sleeps are in two sessions');
    s.closeRead();
    assert.equal(await s.exited, 137);
    await waitFor('every process below it to be gone', () => !tree.some(alive));
    assert.match(s.err(), /the supervisor is gone \(its status pipe closed\): ending every process of the service/);
  });

  it('without --supervised a closed read end only ends the reports: the command runs on, and its code is the exit code', async () => {
    const s = startWithPipe(['--', 'sh', '-c', 'echo ready; read x; exit 4']);
    await waitFor('the command', () => s.out().includes('ready'));
    s.closeRead(); // nsvisor-init's poll sees it at once
    await waitFor('nsvisor-init to let go of the pipe', () => !fs.readdirSync(`/proc/${s.child.pid}/fd`).includes('3'));
    assert.ok(alive(s.child.pid!));
    s.child.stdin!.write('\n');
    assert.equal(await s.exited, 4);
  });
});
