// contrib/nsvisor.service passes `systemd-analyze verify` with no word said, and agrees with contrib/nsvisor.yaml.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseConfigText } from '../../src/config/load';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const unitFile = path.join(repoRoot, 'contrib', 'nsvisor.service');
const exampleFile = path.join(repoRoot, 'contrib', 'nsvisor.yaml');
const INSTALLED = '/usr/local/bin/nsvisor';

/** The [Service] settings of the unit: each key with every value it is given. */
function serviceSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) section = header[1];
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && kv) settings.set(kv[1], [...(settings.get(kv[1]) ?? []), kv[2]]);
  }
  return settings;
}

/** systemd's "5min 30s"-style spans as contrib writes them: a bare number of seconds, or with s/min. */
function seconds(span: string): number {
  const m = /^(\d+)(s|min)?$/.exec(span);
  if (!m) throw new Error(`TimeoutStopSec: a span of the form 90, 90s or 2min expected, got ${span}`);
  return Number(m[1]) * (m[2] === 'min' ? 60 : 1);
}

describe('contrib/nsvisor.service', () => {
  const text = fs.readFileSync(unitFile, 'utf8');
  const service = serviceSettings(text);
  const one = (key: string) => {
    const values = service.get(key) ?? [];
    assert.equal(values.length, 1, `${key}= once in [Service]`);
    return values[0];
  };

  it('is clean under systemd-analyze verify (its binary path pointed at this checkout)', function () {
    const which = spawnSync('systemd-analyze', ['--version']);
    if (which.error) this.skip(); // systemd-analyze (Debian's systemd package) is not installed
    // verify insists that ExecStart's binary exists: the unit names the installed path, this checkout has bin/nsvisor.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-unit-'));
    try {
      const copy = path.join(dir, 'nsvisor.service');
      fs.writeFileSync(copy, text.split(INSTALLED).join(path.join(repoRoot, 'bin', 'nsvisor')));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(`${r.stdout}${r.stderr}`, '', 'systemd-analyze verify says nothing about the unit');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs and reloads nsvisor, delegates its cgroup and leaves the services to nsvisor on stop', () => {
    assert.equal(one('Type'), 'notify', 'nsvisor run says READY=1 once its services have started');
    assert.equal(one('ExecStart'), `${INSTALLED} run -c /etc/nsvisor/nsvisor.yaml`);
    assert.equal(one('ExecReload'), `${INSTALLED} reload --socket /run/nsvisor/nsvisor.sock`);
    assert.equal(one('Delegate'), 'yes');
    assert.equal(one('KillMode'), 'process', 'adoption needs the services to outlive a dead supervisor');
    assert.equal(one('KillSignal'), 'SIGTERM', 'the signal `nsvisor run` shuts down gracefully on');
  });

  it("agrees with contrib/nsvisor.yaml: cgroupRoot self, its control socket, a stop timeout above shutdownTimeout", () => {
    const config = parseConfigText(fs.readFileSync(exampleFile, 'utf8'), exampleFile);
    assert.equal(config.supervisor.cgroupRoot, 'self');
    assert.ok(one('ExecReload').endsWith(`--socket ${config.supervisor.control}`), 'ExecReload talks to the control socket of the example');
    assert.ok(seconds(one('TimeoutStopSec')) * 1000 > config.supervisor.shutdownTimeout, 'systemd waits longer than nsvisor takes to stop everything');
  });
});
