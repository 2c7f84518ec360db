// nsvisor as a user installs it: `npm pack` of a copy of the tree, then `npm install -g` of the tarball with a fresh HOME and prefix, then the installed command for real.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';

import { removeTestRoot, testRoot } from './cgroup-helpers';
import { repoRoot, requireRoot, SLOWDOWN, waitFor, watched } from './helpers';

const npm = fs.existsSync(path.join(path.dirname(process.execPath), 'npm')) ? path.join(path.dirname(process.execPath), 'npm') : 'npm';

/**
 * A copy of the checkout's files (tracked, and new ones git does not ignore) in `dir`, with its node_modules linked:
 * `npm pack` rebuilds dist/src, which must not happen under the suite that is running from it.
 */
function copyOfTree(dir: string): string {
  const listed = spawnSync('git', ['-C', repoRoot, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  assert.equal(listed.status, 0, `git ls-files in ${repoRoot}: ${listed.stderr}`);
  for (const f of listed.stdout.split('\0').filter((f) => f && fs.existsSync(path.join(repoRoot, f)))) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, f), path.join(dir, f));
  }
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The environment of a fresh user: this one's PATH and certificates, its own HOME, none of an outer npm's settings. */
function freshEnv(home: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'XDG_CACHE_HOME'));
  return { ...env, HOME: home };
}

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }) {
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8', timeout: 300_000 });
  const output = `${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, output);
  return r.stdout;
}

describe('package install (npm pack, npm install -g, root)', function () {
  this.timeout(300_000 * SLOWDOWN);
  let scratch = '';
  let cgroupRoot = '';
  let tree = '';
  const installed = () => path.join(scratch, 'prefix', 'bin', 'nsvisor');
  const pkgDir = () => path.join(scratch, 'prefix', 'lib', 'node_modules', 'nsvisor');
  const leftOver = () => path.join(tree, 'dist', 'src', 'left-over.js');

  before(() => {
    requireRoot();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-pkg-'));
    cgroupRoot = testRoot();
    tree = copyOfTree(path.join(scratch, 'tree'));
  });
  after(async () => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    if (cgroupRoot) await removeTestRoot(cgroupRoot);
  });

  it('npm pack compiles the TypeScript afresh into the tarball, which holds no tests', () => {
    // What an earlier build left in dist/src without a source (a module since removed) is not shipped.
    fs.mkdirSync(path.dirname(leftOver()), { recursive: true });
    fs.writeFileSync(leftOver(), '');
    const [packed] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', scratch], { cwd: tree }));
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const f of ['bin/nsvisor', 'dist/src/cli/main.js', 'dist/src/index.d.ts', 'binding.gyp', 'native/init.c', 'scripts/build-native.js', 'contrib/nsvisor.service']) {
      assert.ok(files.includes(f), `${f} is in the tarball`);
    }
    assert.deepEqual(files.filter((f) => /^(dist\/)?(test|bench)\//.test(f) || f.endsWith('.map') || f.includes('left-over')), [], 'no tests, benchmarks, source maps or left-overs');
    assert.ok(!fs.existsSync(leftOver()), 'dist/src is built afresh');
    assert.ok(fs.existsSync(path.join(scratch, packed.filename)));
  });

  it("npm install -g (the README's command) builds the addon and nsvisor-init against the local Node headers", () => {
    const home = path.join(scratch, 'home');
    const prefix = path.join(scratch, 'prefix');
    // npm 11.19 checks the allow list before it creates the prefix, and fails on a missing one.
    fs.mkdirSync(path.join(prefix, 'lib', 'node_modules'), { recursive: true });
    fs.mkdirSync(home);
    // The registry cache of the machine (the dependencies are mostly there), not the fresh HOME's empty one.
    const cache = spawnSync(npm, ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
    const tarball = path.join(scratch, 'nsvisor-0.1.0.tgz');
    run(npm, ['install', '-g', `--allow-scripts=file:${tarball}`, '--strict-allow-scripts', '--prefix', prefix, '--cache', cache, '--prefer-offline', '--no-audit', '--no-fund', './nsvisor-0.1.0.tgz'], { cwd: scratch, env: freshEnv(home) });
    for (const f of ['nsvisor.node', 'nsvisor-init']) assert.ok(fs.existsSync(path.join(pkgDir(), 'build', 'Release', f)), `build/Release/${f}`);
    assert.ok(!fs.existsSync(path.join(home, '.cache', 'node-gyp')), 'node-gyp downloaded no headers');
    const gypi = fs.readFileSync(path.join(pkgDir(), 'build', 'config.gypi'), 'utf8');
    const local = [path.resolve(process.execPath, '..', '..'), '/usr'].map((p) => `"nodedir": "${p}"`);
    assert.ok(local.some((l) => gypi.includes(l)), `built against ${local.join(' or ')}`);
    assert.ok(fs.lstatSync(installed()).isSymbolicLink(), 'npm links PREFIX/bin/nsvisor');
  });

  it('the installed nsvisor runs a sandbox and nsvisor init', () => {
    const r = spawnSync(installed(), ['sandbox', '--', 'true'], { encoding: 'utf8', timeout: 60_000 * SLOWDOWN });
    assert.equal(r.status, 0, r.stderr);
    const init = spawnSync(installed(), ['init', '--version'], { encoding: 'utf8' });
    assert.match(init.stdout, /^nsvisor-init version 0\.1\.0$/m, init.stderr);
  });

  it("the installed nsvisor run supervises the demo's services until SIGTERM, then exits 0", async () => {
    // The demo's own services, from the installed package, under a cgroup root and control socket of this test;
    // in a network namespace of its own, since the demo listens on fixed ports.
    const { demoConfig } = require(path.join(pkgDir(), 'dist', 'src', 'config', 'demo.js'));
    const demo = demoConfig(process.execPath);
    const socket = path.join(scratch, 'control.sock');
    const file = path.join(scratch, 'nsvisor.yaml');
    fs.writeFileSync(file, stringify({ ...demo, supervisor: { ...demo.supervisor, control: socket, cgroupRoot } }));
    const { child, exited, output } = watched('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', installed(), 'run', '-c', file]);
    let code: number | null;
    try {
      const status = () => spawnSync(installed(), ['status', '--socket', socket, '--json'], { encoding: 'utf8' });
      const states = await waitFor(`both demo services running (output so far: ${output()})`, () => {
        if (!fs.existsSync(socket)) return null;
        const r = status();
        const list = r.status === 0 ? JSON.parse(r.stdout) : [];
        return list.length === 2 && list.every((s: { state: string }) => s.state === 'running') && list;
      }, 60_000);
      assert.deepEqual(states.map((s: { name: string }) => s.name).sort(), ['web', 'worker']);
    } finally {
      child.kill('SIGTERM');
      code = await exited; // gone before after() removes its cgroup root
    }
    assert.equal(code, 0, output());
    assert.match(output(), /all services stopped/);
  });
});
