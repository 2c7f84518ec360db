// Unit tests of the upgrade checks: what is refused, and how a program that does not load is described.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { supervisorLine } from '../../src/cli/status';
import { checkUpgrade, initOf, loadFailure, UpgradeError } from '../../src/control/upgrade';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

describe('upgrade checks', () => {
  it('refuses when the program on disk does not start, naming the command and the missing file', async () => {
    await assert.rejects(checkUpgrade(30_000, [process.execPath, '/nonexistent/nsvisor']), (e: Error) => {
      assert.ok(e instanceof UpgradeError);
      assert.equal(e.message.split('\n')[0], `the new program does not start (${process.execPath} /nonexistent/nsvisor --version): Error: Cannot find module '/nonexistent/nsvisor'; nothing was changed`);
      return true;
    });
  });

  it('refuses when the configuration file the new program would read is not valid, naming each problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-upgrade-'));
    try {
      const file = path.join(dir, 'nsvisor.yaml');
      fs.writeFileSync(file, 'services:\n  web:\n    command: [/bin/true]\n    resources: { memory: lots }\n');
      const program = [process.execPath, path.join(repoRoot, 'bin', 'nsvisor')];
      await assert.rejects(checkUpgrade(30_000, program, [], file), {
        message: `the configuration the new program would read at start is not valid (${file}): services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"; nothing was changed`,
      });
      fs.writeFileSync(file, 'services:\n  web:\n    command: [/bin/true]\n');
      assert.equal(await checkUpgrade(30_000, program, [], file), require(path.join(repoRoot, 'package.json')).version);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses when the services could not survive it, before starting anything', async () => {
    await assert.rejects(checkUpgrade(0), /^Error: upgrade needs supervisor\.adoptTimeout > 0/);
    await assert.rejects(checkUpgrade(30_000, process.argv, ['web (its network)']), { message: 'upgrade would restart web (its network), which cannot be adopted; nothing was changed' });
  });

  it('names the file and line of a syntax error, and the file whose require failed', () => {
    const syntax = "nsvisor: Unexpected identifier 'is'\n/opt/n/dist/src/daemon.js:2\nthis is broken\n     ^^\n\nSyntaxError: Unexpected identifier 'is'\n    at wrapSafe (node:internal/modules/cjs/loader:1464:18)\n";
    assert.equal(loadFailure(syntax), "SyntaxError: Unexpected identifier 'is' at /opt/n/dist/src/daemon.js:2");
    const missing = "nsvisor: Cannot find module '/opt/n/build/Release/nsvisor.node'\nRequire stack:\n- /opt/n/dist/src/native.js\n- /opt/n/dist/src/cli/init.js\nError: Cannot find module '/opt/n/build/Release/nsvisor.node'\n";
    assert.equal(loadFailure(missing), "Error: Cannot find module '/opt/n/build/Release/nsvisor.node' (required by /opt/n/dist/src/native.js)");
    assert.equal(loadFailure('nsvisor: something else\n'), null);
  });

  it('finds the nsvisor-init beside the real entry file, as bin/nsvisor does', () => {
    assert.equal(initOf(path.join(repoRoot, 'bin', 'nsvisor')), path.join(repoRoot, 'build', 'Release', 'nsvisor-init'));
    assert.equal(initOf('/nonexistent/bin/nsvisor'), '/nonexistent/build/Release/nsvisor-init');
  });

  it("says which supervisor answered status, its version and this program's age", () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    assert.equal(supervisorLine({ pid: 77, version: '0.2.0', startedAt: '2026-01-01T00:09:55Z' }, now), 'supervisor pid 77, nsvisor 0.2.0, this program for 5s');
  });
});
