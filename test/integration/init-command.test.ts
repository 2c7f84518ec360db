// `nsvisor init` as a container entrypoint: tini-compatible exit codes, -e, -g, and subreaping when it is not PID 1.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { alive, childrenOf, cli, cliBackground, killBackground, waitFor } from './helpers';

const exitOf = (child: ReturnType<typeof cliBackground>) =>
  new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

describe('nsvisor init (real kernel)', function () {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'init-'))));
  afterEach(() => {
    killBackground();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("exits with the command's status, 128+N for a signal, 0 for codes given with -e", () => {
    assert.equal(cli(['init', '--', 'sh', '-c', 'exit 3']).code, 3);
    assert.equal(cli(['init', '-e', '3', '--', 'sh', '-c', 'exit 3']).code, 0);
    assert.equal(cli(['init', '-e', '3', '--', 'sh', '-c', 'exit 4']).code, 4);
    assert.equal(cli(['init', '--', 'sh', '-c', 'kill -KILL $$']).code, 137);
    const missing = cli(['init', '--', 'no-such-command-here']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /execve\(no-such-command-here\): No such file or directory/);
  });

  it('adopts orphans as a subreaper, forwards SIGTERM, drains them, leaves nothing', async () => {
    const child = cliBackground(['init', '--', 'sh', '-c', '(exec sleep 300 &); echo ready; sleep 300']);
    const exited = exitOf(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('the command to start', () => out.includes('ready'));
    // node executed nsvisor-init in place: the same pid, now with sh and the orphaned sleep as children.
    assert.equal(fs.readlinkSync(`/proc/${child.pid}/exe`).endsWith('nsvisor-init'), true);
    const kids = await waitFor('the orphan to be adopted', () => (childrenOf(child.pid!).length === 2 ? childrenOf(child.pid!) : null));
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    for (const pid of kids) await waitFor(`process ${pid} to end`, () => !alive(pid));
  });

  it('-g forwards to the whole process group; without it only the command gets the signal', async () => {
    for (const group of [true, false]) {
      const mark = path.join(dir, `child-${group}`);
      const script = `(trap "echo usr1 > ${mark}; exit 0" USR1; while :; do sleep 0.05; done) & trap "" USR1; echo ready; wait; wait`;
      const child = cliBackground(['init', ...(group ? ['-g'] : []), '--drain', '100', '--', 'sh', '-c', script]);
      const exited = exitOf(child);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await waitFor('the command to start', () => out.includes('ready'));
      child.kill('SIGUSR1');
      if (group) await waitFor('the group member to get SIGUSR1', () => fs.existsSync(mark));
      child.kill('SIGTERM'); // ends the command when -g did not (a no-op if it already ended)
      await exited;
      assert.equal(fs.existsSync(mark), group, group ? '-g reached the group' : 'without -g the signal reached only the command');
    }
  });

  it("usage errors exit 1 (tini's code for its own errors) with a message", () => {
    const r = cli(['init', '-e', '999', '--', 'true']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'nsvisor-init: -e 999: expected an exit code from 0 to 255\n');
  });
});
