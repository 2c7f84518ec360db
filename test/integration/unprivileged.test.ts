// --map-root as an unprivileged user: the user namespace makes every other namespace possible without root.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { cliPath, repoRoot, requireRoot } from './helpers';

const NOBODY = 65534;

/** Runs the CLI as uid/gid 65534 with no supplementary groups. */
function asNobody(args: string[], cli = cliPath) {
  const r = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, cli, ...args], {
    encoding: 'utf8',
    cwd: '/',
    timeout: 60_000,
    // The run's cgroup root is root's: nobody makes no cgroup (a root named would ask for one).
    env: { ...process.env, NSVISOR_CGROUP_ROOT: undefined },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of what the CLI needs at run time, readable by nobody, when the checkout itself is not. */
function readableCheckout(): { cli: string; cleanup: () => void } {
  const probe = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'test', '-r', cliPath]);
  if (probe.status === 0) return { cli: cliPath, cleanup: () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-copy-'));
  for (const part of ['package.json', 'bin', 'dist', 'build/Release/nsvisor.node', 'build/Release/nsvisor-init', 'node_modules']) {
    fs.cpSync(path.join(repoRoot, part), path.join(dir, part), { recursive: true });
  }
  fs.chmodSync(dir, 0o755);
  return { cli: path.join(dir, 'bin', 'nsvisor'), cleanup: () => fs.rmSync(dir, { recursive: true }) };
}

describe('sandbox: unprivileged with --map-root (real kernel)', function () {
  before(requireRoot); // to become nobody
  let checkout: ReturnType<typeof readableCheckout>;
  before(() => (checkout = readableCheckout()));
  after(() => checkout.cleanup());

  it('nobody gets root inside a new user namespace mapped to itself, with all namespaces', () => {
    const r = asNobody(
      ['sandbox', '--map-root', '--isolate', 'pid,mount,uts,ipc,net,cgroup,time', '--hostname', 'unpriv', '--', 'sh', '-c',
        'id -u; cat /proc/self/uid_map; cat /proc/self/setgroups; hostname; echo $$'],
      checkout.cli,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0', `0 ${NOBODY} 1`, 'deny', 'unpriv', '2']);
  });

  it('--caps and --no-new-privs work in the user namespace too: root there keeps only what is listed', () => {
    const r = asNobody(['sandbox', '--map-root', '--caps', 'net_bind_service', '--no-new-privs', '--', 'grep', '-E', '^(CapEff|CapBnd|NoNewPrivs)', '/proc/self/status'], checkout.cli);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/).join(' ')), ['CapEff: 0000000000000400', 'CapBnd: 0000000000000400', 'NoNewPrivs: 1']);
  });

  it('without --map-root, nobody cannot create namespaces: a precise error, exit 125', () => {
    const r = asNobody(['sandbox', '--', 'true'], checkout.cli);
    assert.equal(r.code, 125);
    assert.equal(r.stderr.trim(), 'nsvisor: clone3: Operation not permitted');
  });
});
