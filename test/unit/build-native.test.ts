// scripts/build-native.js, the install step: what it says when a build tool is missing, and which Node headers it builds against.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const script = path.join(repoRoot, 'scripts', 'build-native.js');
const { missingTools, localNodeDir } = require(script) as { missingTools(): string[]; localNodeDir(): string | null };

/** The first directory of this PATH that holds name, as the shell would find it. */
function found(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  return null;
}

describe('scripts/build-native.js (the install script)', () => {
  let bin = '';
  const saved = process.env;
  const buildEnv = (dir: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: dir };
    for (const k of ['CC', 'CXX', 'PYTHON']) delete env[k];
    return env;
  };
  beforeEach(() => (bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-bin-'))));
  afterEach(() => {
    process.env = saved;
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('names every missing tool and the Debian packages that bring them, then fails without building', () => {
    const r = spawnSync(process.execPath, [script], { cwd: bin, env: buildEnv(bin), encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^nsvisor: cannot build the native addon and nsvisor-init: missing python3 .*; make; a C compiler .*; a C\+\+ compiler .*\(on Debian or Ubuntu: apt-get install build-essential python3\)\n$/);
  });

  it('finds nothing missing when python3, make and the compilers are on PATH', function () {
    const tools = ['python3', 'make', 'cc', 'c++'].map((t) => [t, found(t)] as const);
    if (tools.some(([, where]) => !where)) this.skip(); // this machine lacks one of them itself
    for (const [name, where] of tools) fs.symlinkSync(where!, path.join(bin, name));
    process.env = buildEnv(bin);
    assert.deepEqual(missingTools(), []);
    fs.unlinkSync(path.join(bin, 'make'));
    assert.deepEqual(missingTools(), ['make']);
  });

  it('builds against the headers beside the running node, else /usr/include/node', function () {
    const beside = path.resolve(process.execPath, '..', '..');
    const has = (prefix: string) => fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'));
    if (!has(beside) && !has('/usr')) this.skip(); // no local headers here: node-gyp would download them
    assert.equal(localNodeDir(), has(beside) ? beside : '/usr');
  });
});
