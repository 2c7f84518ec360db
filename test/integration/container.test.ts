// nsvisor as PID 1 of a real Podman container: nested namespaces and cgroups, /metrics published, stop and kill.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';

import { detectLayout } from '../../src/cgroup/detect';
import { hostCgroupDirs, PodmanHost, podmanMissing } from './container-helpers';
import { alive, cliPath, nsLink, repoRoot, requireRoot, SLOWDOWN, waitForAsync, waitFor } from './helpers';

const NS = ['pid', 'mnt', 'uts', 'ipc', 'cgroup'];
const APP_PORT = 18080;
const METRICS_PORT = 19753;

/** A web service that writes a marker on SIGTERM, and a shell worker that does the same. */
const WEB_JS = `
const fs = require('fs');
const server = require('http').createServer((q, r) => r.end('hello from ' + process.pid)).listen(8080);
process.on('SIGTERM', () => { fs.writeFileSync('/markers/web', 'SIGTERM'); server.close(() => process.exit(0)); });`;
const WORKER_SH = "trap 'echo SIGTERM > /markers/worker; exit 0' TERM; while :; do sleep 0.2; done";

describe('container: nsvisor as PID 1 of a Podman container', function () {
  this.timeout(120_000 * SLOWDOWN); // the image build copies ~130 MB into podman's storage
  let host: PodmanHost;
  let markers: string;
  let configDir: string;
  const layout = detectLayout();
  /** The hierarchy whose paths we compare: the v2 tree on pure v2, else v1 memory (the hybrid container has no v2 tree). */
  const key = layout.kind === 'v2' ? '' : 'memory';
  const mountOf = (k: string) => (k === '' ? layout.unified! : layout.v1.memory!);

  before(function () {
    requireRoot();
    const missing = podmanMissing();
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    host = new PodmanHost();
    markers = path.join(host.dir, 'markers');
    configDir = path.join(host.dir, 'config');
    fs.mkdirSync(markers);
    fs.mkdirSync(configDir);
    const isolate = ['pid', 'mount', 'uts', 'ipc', 'cgroup'];
    fs.writeFileSync(path.join(configDir, 'nsvisor.yaml'), stringify({
      supervisor: { cgroupRoot: 'self', metrics: '0.0.0.0:9753', logDir: '-', shutdownTimeout: '8s' },
      services: {
        web: { command: [process.execPath, '-e', WEB_JS], isolate, ready: { tcp: 8080 }, resources: { memory: '128Mi', pids: 64 }, stop: { timeout: '5s' } },
        worker: { command: ['/bin/sh', '-c', WORKER_SH], isolate, resources: { pids: 16 }, stop: { timeout: '5s' } },
      },
    }));
  });

  afterEach(() => {
    host.podman(['rm', '-af', '-t', '0']); // what a failed test left running (its ports are the next test's)
  });

  after(async () => {
    await host?.destroy();
  });

  /** Options of a container running our config from the overlay of /, the worktree read-only at its own path. */
  const rootfsRun = () => [
    '--privileged', '-p', `127.0.0.1:${APP_PORT}:8080`, '-p', `127.0.0.1:${METRICS_PORT}:9753`,
    '-v', `${configDir}:/etc/nsvisor:ro`, '-v', `${markers}:/markers`, '-v', `${repoRoot}:${repoRoot}:ro`, '--rootfs', host.rootfs,
  ];
  const nsvisorRun = [process.execPath, cliPath, 'run', '-c', '/etc/nsvisor/nsvisor.yaml'];

  /** Waits until /metrics, fetched through the published port, says both services run; a container that ended fails it at once. */
  async function bothRunning(container: string): Promise<string> {
    return waitForAsync('web and worker running, seen through the published metrics port', async () => {
      const status = host.inspect(container, '{{.State.Status}}');
      if (status !== 'running') throw new Error(`container ${container} is ${status}: ${host.logs(container)}`);
      const r = await host.get(METRICS_PORT, '/metrics');
      const text = r.stdout;
      const running = (n: string) => text.includes(`nsvisor_service_state{name="${n}",state="running"} 1`);
      return r.code === 0 && running('web') && running('worker') && text;
    }, 60_000);
  }

  /** Host pids in a service's cgroup below the container's. */
  function servicePids(ctrPath: string, service: string): number[] {
    const procs = path.join(mountOf(key), ctrPath, service, 'cgroup.procs');
    return fs.readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number);
  }

  it('runs the services in namespaces and cgroups nested in the container\'s, serves /metrics through -p, and stops them gracefully on podman stop', async () => {
    for (const f of ['web', 'worker', 'go']) fs.rmSync(path.join(markers, f), { force: true });
    // The entrypoint waits for a process of `podman exec` to be in the container's cgroup first: on v2 the supervisor must move it out too.
    const entry = `while [ ! -e /markers/go ]; do sleep 0.05; done; exec ${nsvisorRun.join(' ')}`;
    host.start('svc', rootfsRun(), ['/bin/sh', '-c', entry]);
    host.must(['exec', '-d', 'svc', '/bin/sleep', '1000']);
    fs.writeFileSync(path.join(markers, 'go'), '');
    const metrics = await bothRunning('svc');
    assert.match(metrics, /nsvisor_service_spec_memory_limit_bytes\{name="web"\} 134217728/);
    const app = await host.get(APP_PORT, '/');
    assert.equal(app.stdout.split('\n')[0], '200', app.stderr);

    const ctrPid = Number(host.inspect('svc', '{{.State.Pid}}'));
    const ctrPath = host.cgroupOf('svc');
    for (const service of ['web', 'worker']) {
      const pids = servicePids(ctrPath, service);
      assert.ok(pids.length > 0, `${service}: no process in ${ctrPath}/${service}`);
      for (const pid of pids) {
        for (const ns of NS) {
          assert.notEqual(nsLink(pid, ns), nsLink(ctrPid, ns), `${service} pid ${pid}: ${ns} namespace is the container's`);
          assert.notEqual(nsLink(pid, ns), nsLink('self', ns), `${service} pid ${pid}: ${ns} namespace is the host's`);
        }
        assert.equal(nsLink(pid, 'net'), nsLink(ctrPid, 'net'), 'the container\'s network namespace (not isolated)');
        // Nested: host pid, the container's pid for it, the service's own.
        const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1].split(/\s+/);
        assert.equal(nspid.length, 3, `${service} pid ${pid}: NSpid ${nspid.join(' ')}`);
        // The hierarchies the container mounts (on a hybrid host its v1 ones only: there it has no v2 tree to place us in).
        const mine = key === '' ? /^0::/ : /^\d+:(memory|pids|cpu|cpuacct|freezer|devices)(,\w+)*:/;
        const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => mine.test(l));
        assert.ok(own.length > 0);
        for (const line of own) assert.ok(line.split(':')[2].startsWith(`${ctrPath}/${service}`), `${service}: ${line} not below ${ctrPath}`);
      }
    }
    if (layout.kind === 'v2') {
      const leaf = fs.readFileSync(path.join(layout.unified!, ctrPath, 'supervisor', 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      assert.ok(leaf.includes(ctrPid), 'the supervisor moved itself into <container>/supervisor');
      assert.equal(leaf.length, 2, `the process of podman exec moved with it: ${leaf.join(' ')}`);
    }
    const webPids = servicePids(ctrPath, 'web');

    const started = Date.now();
    host.must(['stop', '-t', '10', 'svc']);
    const took = Date.now() - started;
    assert.ok(took < 10_000 * SLOWDOWN, `podman stop took ${took} ms: the runtime's SIGKILL came`);
    assert.equal(host.inspect('svc', '{{.State.ExitCode}}'), '0', host.logs('svc'));
    assert.equal(fs.readFileSync(path.join(markers, 'web'), 'utf8'), 'SIGTERM');
    assert.equal(fs.readFileSync(path.join(markers, 'worker'), 'utf8').trim(), 'SIGTERM');
    for (const pid of webPids) assert.equal(alive(pid), false);
    assert.match(host.logs('svc'), /nsvisor: all services stopped/);
    host.must(['rm', 'svc']);
    assert.deepEqual(hostCgroupDirs(ctrPath).filter((d) => fs.existsSync(d)), [], 'the container\'s cgroups are gone');
  });

  it('leaves no process, cgroup or mount on the host after podman kill', async () => {
    const mountsBefore = mountPoints();
    host.start('killed', rootfsRun(), nsvisorRun);
    await bothRunning('killed');
    const ctrPid = Number(host.inspect('killed', '{{.State.Pid}}'));
    const ctrPath = host.cgroupOf('killed');
    const pids = [ctrPid, ...servicePids(ctrPath, 'web'), ...servicePids(ctrPath, 'worker')];
    host.must(['kill', 'killed']);
    await waitFor('the container to be exited', () => host.inspect('killed', '{{.State.Status}}') === 'exited', 30_000, 100);
    await waitFor(`no process of the container left (${pids.join(' ')})`, () => pids.every((p) => !alive(p)), 10_000);
    host.must(['rm', 'killed']);
    assert.deepEqual(hostCgroupDirs(ctrPath).filter((d) => fs.existsSync(d)), [], 'no cgroup of the container or its services left');
    assert.deepEqual(mountPoints().filter((m) => !mountsBefore.includes(m)), [], 'no mount left on the host');
  });

  it('names the read-only cgroup mount of an unprivileged container (EROFS), not a missing directory', () => {
    const r = host.podman(['run', '--rm', ...host.runOptions(), '--cap-add', 'SYS_ADMIN', '-v', `${repoRoot}:${repoRoot}:ro`, '--rootfs', host.rootfs,
      process.execPath, cliPath, 'sandbox', '--memory', '32Mi', '--', '/bin/true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\/sys\/fs\/cgroup\/\S*: mkdir: Read-only file system/, r.stderr);
  });

  it('builds contrib/Containerfile offline (a local base image, nothing pulled) and runs its app and worker under nsvisor', async () => {
    const context = path.join(host.dir, 'context');
    const staged = spawnSync(path.join(repoRoot, 'contrib', 'container', 'stage.sh'), [context], { encoding: 'utf8' });
    assert.equal(staged.status, 0, staged.stderr);
    host.importNodeBase('localhost/nsvisor-test-node:latest');
    host.must(['build', '--pull=never', '--build-arg', 'NODE_IMAGE=localhost/nsvisor-test-node:latest', '-t', 'localhost/nsvisor-example', context], 300_000);
    host.start('example', ['--privileged', '-p', `127.0.0.1:${APP_PORT}:8080`, '-p', `127.0.0.1:${METRICS_PORT}:9753`], ['localhost/nsvisor-example']);
    await bothRunning('example');
    const app = await host.get(APP_PORT, '/hello');
    assert.equal(app.stdout.split('\n')[0], '200', app.stderr);
    assert.equal(JSON.parse(app.stdout.split('\n')[1]).path, '/hello');
    const ctrPath = host.cgroupOf('example');
    assert.ok(servicePids(ctrPath, 'web').length > 0 && servicePids(ctrPath, 'worker').length > 0);
    host.must(['stop', 'example']);
    assert.equal(host.inspect('example', '{{.State.ExitCode}}'), '0', host.logs('example'));
    assert.match(host.logs('example'), /web \| \S+ SIGTERM: closing/);
    assert.match(host.logs('example'), /worker \| \S+ SIGTERM after \d+ ticks: done/);
    host.must(['rm', 'example']);
    assert.deepEqual(hostCgroupDirs(ctrPath).filter((d) => fs.existsSync(d)), []);
  });
});

function mountPoints(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
}
