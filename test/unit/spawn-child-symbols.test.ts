// The clone child's objects call nothing outside themselves: no libc symbol, no call through the PLT (read from the built objects).
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const repo = path.resolve(__dirname, '..', '..', '..');
const LIBRARY = 'nsvisor-spawn-child';

/** The sources binding.gyp builds into the child's library. */
function librarySources(): string[] {
  const gyp = JSON.parse(fs.readFileSync(path.join(repo, 'binding.gyp'), 'utf8')) as { targets: { target_name: string; sources: string[] }[] };
  const target = gyp.targets.find((t) => t.target_name === LIBRARY);
  assert.ok(target, `binding.gyp has a target ${LIBRARY}`);
  return target.sources;
}

/** The object built from each of the library's sources, wherever node-gyp put the build (Release or Debug). */
function libraryObjects(): string[] {
  const builds = ['Release', 'Debug'].map((b) => path.join(repo, 'build', b, 'obj.target', LIBRARY)).filter((d) => fs.existsSync(d));
  assert.ok(builds.length > 0, `no build of ${LIBRARY} under build/*/obj.target: run npx node-gyp rebuild`);
  return librarySources().map((src) => {
    const obj = path.join(builds[0], src.replace(/\.c$/, '.o'));
    assert.ok(fs.existsSync(obj), `${src} was built into ${obj}`);
    return obj;
  });
}

/** The symbol table of an object: name, binding, visibility, and whether it is defined there. */
function symbols(obj: string): { name: string; bind: string; vis: string; defined: boolean }[] {
  const out = execFileSync('readelf', ['-sW', obj], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => /^\d+:$/.test(f[0]) && f.length >= 8)
    .map((f) => ({ name: f[7], bind: f[4], vis: f[5], defined: f[6] !== 'UND' }));
}

describe('the clone child links against nothing', () => {
  const objects = libraryObjects();
  const all = objects.flatMap((obj) => symbols(obj).map((s) => ({ ...s, obj: path.basename(obj) })));

  it('is built from the child side only, and holds its entry points', () => {
    assert.ok(!librarySources().includes('native/spawn.c'), 'the parent side (nsv_spawn_start) may use libc: it stays in the addon');
    for (const entry of ['nsv_child_main', 'nsv_clone3_run']) assert.ok(all.some((s) => s.name === entry && s.defined), `${entry} is defined`);
  });

  it('needs no symbol from outside its own objects (nm -u, less what another of them defines)', () => {
    const defined = new Set(all.filter((s) => s.defined).map((s) => s.name));
    const outside = objects.flatMap((obj) =>
      execFileSync('nm', ['-u', obj], { encoding: 'utf8' })
        .split('\n')
        .map((line) => line.trim().split(/\s+/).pop() ?? '')
        .filter((name) => name !== '' && !defined.has(name))
        .map((name) => `${path.basename(obj)}: ${name}`),
    );
    assert.deepEqual(outside, [], 'the allowed set is empty: a compiler-made memcpy/strlen/__stack_chk_fail would run libc in the child');
  });

  it('keeps every global symbol hidden, so calls between its objects are direct, never through the PLT', () => {
    const visible = all.filter((s) => (s.bind === 'GLOBAL' || s.bind === 'WEAK') && s.vis !== 'HIDDEN');
    assert.deepEqual(visible.map((s) => `${s.obj}: ${s.name} ${s.vis}`), []);
  });
});
