// Unit tests of the reload plan as a table: each change to a configuration and what the plan makes of it.
import { strict as assert } from 'assert';

import { validateConfig } from '../../src/config/schema';
import { planChanges, planReload, sameServices } from '../../src/reload/plan';

const base = {
  supervisor: { control: '/run/t/c.sock', metrics: '127.0.0.1:9753', logDir: '/var/log/t', cgroupRoot: '/t' },
  networks: { nsv0: { subnet: '10.88.0.0/24' } },
  services: {
    db: { command: ['/usr/bin/db'], resources: { memory: '256Mi' }, ready: { notify: true } },
    web: {
      command: ['/usr/bin/web', '--port', '8080'],
      env: { PORT: '8080', MODE: 'prod' },
      listen: ['tcp://127.0.0.1:8080'],
      ready: { exec: ['/bin/check'], timeout: '10s' },
      dependsOn: ['db'],
    },
    net: { command: ['/usr/bin/n'], isolate: ['pid', 'mount', 'net'], network: { attach: 'nsv0' } },
  },
};

type Raw = typeof base & Record<string, any>;
const clone = (): Raw => JSON.parse(JSON.stringify(base));
const plan = (edit: (c: Raw) => void) => {
  const next = clone();
  edit(next);
  return planReload(validateConfig(base), validateConfig(next));
};
const change = (p: ReturnType<typeof plan>, service: string) => p.services.find((s) => s.service === service);

describe('reload plan', () => {
  it('the same file, written differently (key order, units), changes nothing', () => {
    const p = plan((c) => {
      c.services.db.resources.memory = '268435456';
      c.services.web.env = { MODE: 'prod', PORT: '8080' };
      (c.services.web.ready as any).timeout = '10000ms';
      c.services.net.isolate = ['net', 'pid', 'mount'];
    });
    assert.deepEqual(p.services.map((s) => s.kind), ['unchanged', 'unchanged', 'unchanged']);
    assert.equal(planChanges(p), false);
  });

  const cases: [string, (c: Raw) => void, string, object][] = [
    ['a limit', (c) => (c.services.db.resources.memory = '512Mi'), 'db', { kind: 'update', keys: ['resources.memory'] }],
    ['a new limit', (c) => ((c.services.db.resources as any).pids = 64), 'db', { kind: 'update', keys: ['resources.pids'] }],
    ['the restart policy', (c) => ((c.services.db as any).restart = { policy: 'always' }), 'db', { kind: 'update', keys: ['restart.policy'] }],
    ['the stop timeout', (c) => ((c.services.db as any).stop = { timeout: '30s' }), 'db', { kind: 'update', keys: ['stop.timeout'] }],
    ['the ready timeout only', (c) => ((c.services.web.ready as any).timeout = '20s'), 'web', { kind: 'update', keys: ['ready.timeout'] }],
    ['the order of dependencies', (c) => (c.services.web.dependsOn = ['db']), 'web', { kind: 'unchanged' }],
    ['a dependency', (c) => ((c.services.net as any).dependsOn = ['db']), 'net', { kind: 'update', keys: ['dependsOn'] }],
    ['the environment of a listen service', (c) => (c.services.web.env.MODE = 'debug'), 'web', { kind: 'replace', keys: ['env.MODE'], mode: 'zero-downtime' }],
    ['the command', (c) => (c.services.web.command = ['/usr/bin/web2']), 'web', { kind: 'replace', keys: ['command'], mode: 'zero-downtime' }],
    ['the ready check itself', (c) => (c.services.web.ready = { exec: ['/bin/other'], timeout: '10s' }), 'web', { kind: 'replace', keys: ['ready.command'], mode: 'zero-downtime' }],
    ['the listen sockets', (c) => (c.services.web.listen = ['tcp://127.0.0.1:8081']), 'web', { kind: 'replace', keys: ['listen'], mode: 'stop-start' }],
    ['a service without listen', (c) => (c.services.db.command = ['/usr/bin/db', '-v']), 'db', { kind: 'replace', keys: ['command'], mode: 'stop-start' }],
    // Without uts, the hostname the service name gave goes too.
    ['isolation', (c) => ((c.services.db as any).isolate = ['pid', 'mount']), 'db', { kind: 'replace', keys: ['hostname', 'isolate'], mode: 'stop-start' }],
    ['limits and the command together', (c) => ((c.services.db.command = ['/x']), (c.services.db.resources.memory = '1Gi')), 'db', { kind: 'replace', keys: ['command', 'resources.memory'], mode: 'stop-start' }],
    ['a fixed address', (c) => ((c.services.net.network as any).address = '10.88.0.9'), 'net', { kind: 'replace', keys: ['network.address'], mode: 'stop-start' }],
    ['the subnet of its network', (c) => (c.networks.nsv0.subnet = '10.89.0.0/24'), 'net', { kind: 'replace', keys: ['networks.nsv0.subnet'], mode: 'stop-start' }],
  ];
  for (const [what, edit, service, expected] of cases) {
    it(`${what}: ${JSON.stringify(expected)}`, () => {
      const p = plan(edit);
      assert.deepEqual(change(p, service), { service, ...expected });
      for (const other of p.services.filter((s) => s.service !== service)) assert.equal(other.kind, 'unchanged', `${other.service} is untouched`);
    });
  }

  it('the same plan when the unchanged services are found a slice at a time beforehand', async () => {
    const next = clone();
    next.services.web.env.MODE = 'debug';
    next.services.db.resources.memory = '512Mi';
    const [a, b] = [validateConfig(base), validateConfig(next)];
    const same = await sameServices(a, b, 1);
    assert.deepEqual([...same], ['net']);
    assert.deepEqual(planReload(a, b, same), planReload(a, b));
  });

  it('adds and removes services in dependency order: removals first, dependents before their dependencies', () => {
    const p = plan((c) => {
      delete (c.services as any).net;
      (c.services as any).cache = { command: ['/usr/bin/cache'], dependsOn: ['web'] };
      (c.services as any).queue = { command: ['/usr/bin/q'] };
    });
    assert.deepEqual(p.services.map((s) => `${s.service}:${s.kind}`), ['net:remove', 'db:unchanged', 'queue:add', 'web:unchanged', 'cache:add']);
  });

  it('networks: added, removed and changed', () => {
    const p = plan((c) => {
      (c.networks as any).nsv1 = { subnet: '10.90.0.0/24', nat: true };
      (c.networks.nsv0 as any).nat = true;
    });
    assert.deepEqual(p.networks, [{ network: 'nsv0', kind: 'update', keys: ['nat'] }, { network: 'nsv1', kind: 'add' }]);
    assert.equal(change(p, 'net')!.kind, 'unchanged', 'NAT switched on does not touch the services on it');
  });

  it('the metrics endpoint and the shutdown bound change in place; control, cgroupRoot and logDir refuse the plan', () => {
    const ok = plan((c) => ((c.supervisor.metrics = '127.0.0.1:9999'), ((c.supervisor as any).shutdownTimeout = '2m')));
    assert.deepEqual(ok.supervisor, ['metrics.port', 'shutdownTimeout']);
    assert.deepEqual(ok.refused, []);
    const bad = plan((c) => ((c.supervisor.control = '/run/other.sock'), (c.supervisor.cgroupRoot = '/other'), (c.supervisor.logDir = '/tmp/l')));
    assert.deepEqual(bad.refused, [
      'supervisor.control: cannot change while the supervisor runs (restart nsvisor run to change it)',
      'supervisor.cgroupRoot: cannot change while the supervisor runs (restart nsvisor run to change it)',
      'supervisor.logDir: cannot change while the supervisor runs (restart nsvisor run to change it)',
    ]);
  });
});
