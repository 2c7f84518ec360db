// supervisor.adoptTimeout: services outlive a SIGKILLed `nsvisor run` for the window, their output read meanwhile, then stop gracefully with nothing left.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { Seen, stillRunning, tree } from './process-tree';
import { keeperDir } from '../../src/service/keeper-files';
import { removeRoots, runAgain, startRun, stopRun } from './supervisor-helpers';

/** A shell loop whose SIGTERM handler leaves `mark` (and exits unless `stay`). */
const trapping = (mark: string, stay = false) => `trap 'echo term > ${mark}${stay ? '' : '; exit 0'}' TERM; while :; do sleep 0.05; done`;

describe('a supervisor that died: its services wait out adoptTimeout, then stop gracefully (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  it('SIGKILL and no new supervisor: output is read while orphaned, every SIGTERM handler runs, nothing is left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orphan-'));
    fs.chmodSync(dir, 0o777);
    const mark = (name: string) => path.join(dir, name);
    // 3 MB of output once the supervisor is gone: more than the pipe and init's buffer hold, so only a reader
    // that keeps reading (and drops the oldest lines) lets the loop end.
    const line = 'x'.repeat(999);
    const chatty = `while [ ! -e ${mark('go')} ]; do sleep 0.05; done; i=0; while [ $i -lt 3000 ]; do echo "$i ${line}"; i=$((i+1)); done; echo > ${mark('chatty.wrote')}; ${trapping(mark('chatty.term'))}`;
    const services = {
      polite: { command: ['sh', '-c', trapping(mark('polite.term'))] },
      // No pid namespace: nsvisor-init is a subreaper; the background sleep is left to its drain.
      shallow: { command: ['sh', '-c', `sleep 1000 & ${trapping(mark('shallow.term'))}`], isolate: ['mount', 'uts'] },
      stubborn: { command: ['sh', '-c', trapping(mark('stubborn.term'), true)], stop: { timeout: '300ms', drain: '200ms' } },
      chatty: { command: ['sh', '-c', chatty] },
    };
    try {
      const run = await startRun(services, { adoptTimeout: '3s' });
      const inits = await waitFor('every service running', () => {
        const s = run.status();
        return s.length === 4 && s.every((x: any) => x.state === 'running') ? s.map((x: any) => x.initPid as number) : null;
      });
      const seen: Seen[] = await waitFor('the service processes', () => {
        const t = inits.flatMap(tree);
        return t.filter((p) => p.comm === 'sleep').length >= 5 ? t : null; // shallow has two sleeps
      });
      run.child.kill('SIGKILL');
      await run.exited;
      fs.writeFileSync(mark('go'), '');
      await waitFor('chatty to write its 3 MB with no supervisor', () => fs.existsSync(mark('chatty.wrote')));
      const terms = ['polite', 'shallow', 'stubborn', 'chatty'].map((n) => mark(`${n}.term`));
      assert.deepEqual(terms.filter((f) => fs.existsSync(f)), [], 'nothing was stopped within the window');
      assert.ok(inits.every((pid) => seen.some((s) => s.pid === pid && stillRunning(s))), 'every nsvisor-init outlives the supervisor');
      await waitFor(`every process to end after the window (left: ${JSON.stringify(seen.filter(stillRunning))})`, () => !seen.some(stillRunning), 20_000 * SLOWDOWN);
      assert.deepEqual(terms.filter((f) => !fs.existsSync(f)), [], 'every service got its stop signal and handled it');
      // What is left for a successor: the empty cgroups and the instances' sockets and state files, which the next
      // supervisor of that cgroupRoot removes as it starts, saying why it took none.
      const next = await runAgain(run);
      await waitFor("the next supervisor to find each instance gone", () => (next.output().match(/left by a supervisor that died: nsvisor-init \d+ is gone/g) ?? []).length === 4).catch((e) => {
        throw new Error(`${e.message}; its output: ${next.output()}`);
      });
      await waitFor('the services started anew', () => next.status().every((x: any) => x.state === 'running'));
      const code = await stopRun(next);
      assert.equal(code, 0, `the next supervisor's end (${next.child.signalCode}): ${next.output()}`);
      assert.ok(!fs.existsSync(keeperDir(run.root)), 'no socket or state file is left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
