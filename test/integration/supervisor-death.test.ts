// SIGKILL of the supervisor (`nsvisor run`, `nsvisor sandbox`) leaves no process of a service behind, with and without a pid namespace, user ids or not, double-forked and setsid()ed ones included.
import { strict as assert } from 'assert';
import * as fs from 'fs';

import { childrenOf, cliBackground, killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { Seen, stillRunning, tree } from './process-tree';
import { removeRoots, startRun } from './supervisor-helpers';

/** The service's processes: a background child of the main process, and the main process (exec'd sleep). */
const SIMPLE = 'sleep 1000 & exec sleep 1001';
/** Adds a process that left its parent and its session: a subshell starts `setsid sh` and exits at once, so the
 * new session's leader (with a child of its own) is an orphan, handed to nsvisor-init as subreaper or PID 1. */
const ESCAPING = `(setsid sh -c 'sleep 1002 & exec sleep 1003' &); ${SIMPLE}`;

interface Case {
  what: string;
  service: Record<string, unknown>;
  /** The processes to expect under nsvisor-init, init included; all but init end up as sleeps. */
  count: number;
}

const CASES: Case[] = [
  { what: 'user 1000:1000 in a pid namespace', service: { command: ['sh', '-c', SIMPLE], user: '1000:1000' }, count: 3 },
  { what: 'user 1000:1000 without a pid namespace', service: { command: ['sh', '-c', SIMPLE], user: '1000:1000', isolate: ['mount', 'uts'] }, count: 3 },
  { what: 'root without a pid namespace', service: { command: ['sh', '-c', SIMPLE], isolate: ['mount', 'uts'] }, count: 3 },
  { what: 'no namespace but mount', service: { command: ['sh', '-c', SIMPLE], isolate: ['mount'] }, count: 3 },
  { what: 'a double fork into a new session, user 1000:1000, no pid namespace', service: { command: ['sh', '-c', ESCAPING], user: '1000:1000', isolate: ['mount', 'uts'] }, count: 5 },
  { what: 'a double fork into a new session in a pid namespace', service: { command: ['sh', '-c', ESCAPING] }, count: 5 },
];

/** Waits for the whole tree under init; checks the escaping one really left the main process's session. */
async function serviceTree(init: number, c: Case): Promise<Seen[]> {
  const seen = await waitFor(`${c.count - 1} sleeps under nsvisor-init ${init}`, () => {
    const t = tree(init);
    return t.length === c.count && t.slice(1).every((s) => s.comm === 'sleep') ? t : null;
  });
  if (c.count === 5) {
    const sessions = new Set(seen.filter((s) => s.comm === 'sleep').map((s) => s.sid));
    assert.equal(sessions.size, 2, `the setsid()ed sleeps are in a session of their own: ${JSON.stringify(seen)}`);
  }
  return seen;
}

async function allGone(seen: Seen[], what: string): Promise<void> {
  await waitFor(`every process of ${what} to end (left: ${JSON.stringify(seen.filter(stillRunning))})`, () => !seen.some(stillRunning), 5000);
}

describe('a SIGKILLed supervisor leaves no process of its services with adoptTimeout 0 (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  before(requireRoot);
  afterEach(killBackground);
  after(removeRoots);

  for (const c of CASES) {
    it(`nsvisor run: ${c.what}`, async () => {
      const run = await startRun({ svc: c.service }, { adoptTimeout: '0s' });
      const init = await waitFor('the service to run', () => {
        const s = run.status().find((x: { name: string }) => x.name === 'svc');
        return s?.state === 'running' && s.initPid;
      });
      const seen = await serviceTree(init, c);
      run.child.kill('SIGKILL');
      await run.exited;
      await allGone(seen, `service svc (${c.what})`);
    });
  }

  for (const user of ['1000:1000', '0:0']) {
    it(`a SIGKILLed nsvisor-init takes its command along (PDEATHSIG armed again after the change to ${user})`, async () => {
      const child = cliBackground(['sandbox', '--user', user, '--isolate', 'mount,uts', '--', 'sleep', '1000']);
      const init = await waitFor('nsvisor-init under the sandbox', () => childrenOf(child.pid!)[0]);
      const main = await waitFor('the command', () => tree(init).find((s) => s.comm === 'sleep'));
      assert.equal(fs.readFileSync(`/proc/${main.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1], user.split(':')[0]);
      process.kill(init, 'SIGKILL');
      await allGone([main], `the command of a SIGKILLed nsvisor-init (${user})`);
    });
  }

  for (const [what, args, count] of [
    ['user 1000:1000 without a pid namespace, a double fork into a new session', ['--user', '1000:1000', '--isolate', 'mount,uts'], 5],
    ['root, no namespace but mount', ['--isolate', 'mount'], 5],
    ['user 1000:1000 in a pid namespace', ['--user', '1000:1000'], 5],
  ] as const) {
    it(`nsvisor sandbox: ${what}`, async () => {
      const child = cliBackground(['sandbox', ...args, '--', 'sh', '-c', ESCAPING]);
      const exited = new Promise((r) => child.on('exit', r));
      const init = await waitFor('nsvisor-init under the sandbox', () => childrenOf(child.pid!)[0]);
      const seen = await serviceTree(init, { what, service: {}, count });
      child.kill('SIGKILL');
      await exited;
      await allGone(seen, `the sandbox (${what})`);
    });
  }
});
