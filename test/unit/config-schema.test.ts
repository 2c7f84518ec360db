// Unit tests of the configuration schema: exact messages for broken files, defaults, cross-key checks, dependency order.
import { strict as assert } from 'assert';

import { ConfigError } from '../../src/config/issues';
import { dependencyOrder, validateConfig } from '../../src/config/schema';
import { defaultControlPath } from '../../src/config/supervisor';

const problems = (input: unknown): string[] => {
  try {
    validateConfig(input);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
};

/** A configuration whose service `web` has these keys besides its command. */
const web = (keys: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  services: { web: { command: ['/bin/true'], ...keys } },
  ...more,
});

const BROKEN: [what: string, input: unknown, expected: string[]][] = [
  ['not a map', 'hello', ['(top level): expected a map of keys, got "hello"']],
  ['no services', {}, ['services: required']],
  ['empty services', { services: {} }, ['services: expected at least one service']],
  ['unknown top-level key', { servces: {}, services: { a: { command: ['x'] } } }, ['servces: unknown key; did you mean "services"?']],
  ['missing command', { services: { web: {} } }, ['services.web.command: required']],
  [
    'bad service name',
    { services: { Web: { command: ['x'] } } },
    ['services.Web: expected a service name of a-z, 0-9, "_" and "-", starting with a letter or digit, at most 63 characters'],
  ],
  ['unknown service key', web({ restrat: {} }), ['services.web.restrat: unknown key; did you mean "restart"?']],
  ['unknown nested key', web({ restart: { polcy: 'always' } }), ['services.web.restart.polcy: unknown key; did you mean "policy"?']],
  ['unknown key, nothing close', web({ resources: { banana: 1 } }), ['services.web.resources.banana: unknown key']],
  ['bad size', web({ resources: { memory: 'lots' } }), ['services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"']],
  ['bad duration', web({ restart: { delay: '1 sec' } }), ['services.web.restart.delay: expected a duration like 500ms, 10s, 1m or 1h, got "1 sec"']],
  ['negative duration', web({ ready: { notify: true, timeout: '-5s' } }), ['services.web.ready.timeout: expected a duration like 500ms, 10s, 1m or 1h, got "-5s"']],
  ['a number for a duration', web({ restart: { delay: 5 } }), ['services.web.restart.delay: expected a duration like 500ms, 10s, 1m or 1h, got 5']],
  ['a boolean for a size', web({ resources: { memory: true } }), ['services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got true']],
  ['typo in a mount', web({ mounts: [{ type: 'tmpfs', target: '/tmp', sise: '1Mi' }] }), ['services.web.mounts[0].sise: unknown key; did you mean "size"?']],
  ['wrong type', web({ resources: { cpus: 'two' } }), ['services.web.resources.cpus: expected a number, got "two"']],
  ['cpus not positive', web({ resources: { cpus: 0 } }), ['services.web.resources.cpus: expected a positive number of CPUs, e.g. 0.5']],
  ['cpuWeight range', web({ resources: { cpuWeight: 20000 } }), ['services.web.resources.cpuWeight: expected an integer from 1 to 10000']],
  ['pids fraction', web({ resources: { pids: 1.5 } }), ['services.web.resources.pids: expected a positive number of tasks']],
  ['zero memory', web({ resources: { memory: 0 } }), ['services.web.resources.memory: expected a size above 0']],
  [
    'the same address or socket twice',
    {
      networks: { nsv0: { subnet: '10.88.0.0/24' } },
      services: {
        a: { command: ['x'], isolate: ['net'], network: { attach: 'nsv0', address: '10.88.0.5' }, listen: ['tcp://0.0.0.0:80'] },
        b: { command: ['x'], isolate: ['net'], network: { attach: 'nsv0', address: '10.88.0.5' }, listen: ['unix:///run/b.sock', 'tcp://0.0.0.0:80'] },
      },
    },
    ['services.b.network.address: 10.88.0.5 is already the address of a', 'services.b.listen[1]: tcp://0.0.0.0:80 is already held by a'],
  ],
  ['memoryHigh above memory', web({ resources: { memory: '100Mi', memoryHigh: '200Mi' } }), ['services.web.resources.memoryHigh: is above memory, so it would never apply']],
  ['restart policy', web({ restart: { policy: 'sometimes' } }), ['services.web.restart.policy: Invalid option: expected one of "always"|"on-failure"|"never"']],
  ['delay above maxDelay', web({ restart: { delay: '1m', maxDelay: '10s' } }), ['services.web.restart.delay: is longer than maxDelay']],
  [
    'bad listen URLs',
    web({ listen: ['http://0.0.0.0:80', 'tcp://0.0.0.0:99999', 'tcp://300.1.1.1:80', 'unix://relative.sock', 'tcp://[::1]:8080', 'unix:///run/a.sock'] }),
    [
      'services.web.listen[0]: expected tcp://HOST:PORT or unix:///PATH, got "http://0.0.0.0:80"',
      'services.web.listen[1]: expected tcp://HOST:PORT or unix:///PATH, got "tcp://0.0.0.0:99999"',
      'services.web.listen[2]: expected tcp://HOST:PORT or unix:///PATH, got "tcp://300.1.1.1:80"',
      'services.web.listen[3]: expected tcp://HOST:PORT or unix:///PATH, got "unix://relative.sock"',
    ],
  ],
  ['ready with two kinds', web({ ready: { tcp: 8080, http: 'http://127.0.0.1:8080/' } }), ['services.web.ready: expected exactly one of notify, tcp, http, exec; got tcp and http']],
  ['ready with none', web({ ready: { timeout: '5s' } }), ['services.web.ready: expected exactly one of notify, tcp, http, exec']],
  ['ready bad port', web({ ready: { tcp: 70000 } }), ['services.web.ready.tcp: expected a port number 1-65535']],
  ['ready bad URL', web({ ready: { http: 'localhost:8080' } }), ['services.web.ready.http: expected an http:// or https:// URL']],
  [
    'ready on a held port',
    web({ listen: ['tcp://0.0.0.0:8080'], ready: { tcp: 8080 } }),
    [
      'services.web.ready: checks port 8080, which the supervisor holds (listen[0]): it would be answered by the held socket or the old ' +
        'instance, not by the new one; use ready.notify, or ready.exec with a check of the instance itself',
    ],
  ],
  ['metrics', web({}, { supervisor: { metrics: 'everywhere' } }), ['supervisor.metrics: expected host:port such as 127.0.0.1:9753, or "off", got "everywhere"']],
  ['cgroupRoot', web({}, { supervisor: { cgroupRoot: 'nsvisor' } }), ['supervisor.cgroupRoot: expected a path like /nsvisor, or "self"']],
  ['logDir', web({}, { supervisor: { logDir: 'logs' } }), ['supervisor.logDir: expected an absolute directory, or "-" for standard output']],
  ['supervisor typo', web({}, { supervisor: { shutdownTimout: '5s' } }), ['supervisor.shutdownTimout: unknown key; did you mean "shutdownTimeout"?']],
  ['subnet syntax', web({}, { networks: { nsv0: { subnet: '10.88.0/24' } } }), ['networks.nsv0.subnet: expected an IPv4 subnet like 10.88.0.0/24, got "10.88.0/24"']],
  ['subnet host bits', web({}, { networks: { nsv0: { subnet: '10.88.0.7/24' } } }), ['networks.nsv0.subnet: 10.88.0.7/24 has host bits set; did you mean 10.88.0.0/24?']],
  ['subnet too small', web({}, { networks: { nsv0: { subnet: '10.88.0.0/31' } } }), ['networks.nsv0.subnet: /31 leaves no room for the gateway and a service; use /30 or shorter']],
  [
    'bad network name',
    web({}, { networks: { 'a-very-long-bridge-name': { subnet: '10.0.0.0/24' } } }),
    ['networks.a-very-long-bridge-name: expected a bridge name of at most 15 letters, digits, "_", "-" or ".", starting with a letter'],
  ],
  [
    'unknown dependsOn',
    { services: { web: { command: ['x'], dependsOn: ['dbb'] }, db: { command: ['y'] } } },
    ['services.web.dependsOn[0]: unknown service "dbb"; did you mean "db"?'],
  ],
  ['depends on itself', web({ dependsOn: ['web'] }), ['services: dependency cycle web -> web']],
  [
    'dependency cycle',
    {
      services: {
        web: { command: ['x'], dependsOn: ['api'] },
        api: { command: ['x'], dependsOn: ['web'] },
        db: { command: ['x'] },
      },
    },
    ['services: dependency cycle web -> api -> web'],
  ],
  [
    'longer cycle behind a chain',
    {
      services: {
        a: { command: ['x'], dependsOn: ['b'] },
        b: { command: ['x'], dependsOn: ['c'] },
        c: { command: ['x'], dependsOn: ['d'] },
        d: { command: ['x'], dependsOn: ['b'] },
      },
    },
    ['services: dependency cycle b -> c -> d -> b'],
  ],
  ['network without net', web({ network: { device: 'dummy0' } }), ['services.web.network: requires "net" in isolate']],
  ['hostname without uts', web({ isolate: ['pid'], hostname: 'x' }), ['services.web.hostname: requires "uts" in isolate']],
  ['time without time', web({ time: { boottime: '-1h' } }), ['services.web.time: requires "time" in isolate']],
  [
    'attach to an undeclared network',
    web({ isolate: ['net'], network: { attach: 'nsv1' } }, { networks: { nsv0: { subnet: '10.88.0.0/24' } } }),
    ['services.web.network.attach: unknown network "nsv1"; did you mean "nsv0"?'],
  ],
  ['attach with no networks', web({ isolate: ['net'], network: { attach: 'br0' } }), ['services.web.network.attach: unknown network "br0"']],
  [
    'attach and device',
    web({ isolate: ['net'], network: { attach: 'nsv0', device: 'eth1' } }, { networks: { nsv0: { subnet: '10.88.0.0/24' } } }),
    ['services.web.network: give attach or device, not both'],
  ],
  [
    'address outside the subnet, the gateway, the broadcast',
    {
      networks: { nsv0: { subnet: '10.88.0.0/24' } },
      services: {
        a: { command: ['x'], isolate: ['net'], network: { attach: 'nsv0', address: '10.89.0.5' } },
        b: { command: ['x'], isolate: ['net'], network: { attach: 'nsv0', address: '10.88.0.1' } },
        c: { command: ['x'], isolate: ['net'], network: { attach: 'nsv0', address: '10.88.0.255' } },
        d: { command: ['x'], isolate: ['net'], network: { address: '10.88.0.9' } },
        e: { command: ['x'], isolate: ['net'], network: { attach: 'nsv0', address: '10.88.0.256' } },
      },
    },
    [
      'services.e.network.address: expected an IPv4 address like 10.88.0.10',
      'services.a.network.address: 10.89.0.5 is not in network nsv0 (10.88.0.0/24)',
      'services.b.network.address: 10.88.0.1 is the gateway of network nsv0 (10.88.0.0/24)',
      'services.c.network.address: 10.88.0.255 is not a host address of network nsv0 (10.88.0.0/24)',
      'services.d.network.address: needs attach (the network the address is on)',
    ],
  ],
  [
    'every problem at once, the structural ones first',
    {
      services: {
        web: { command: ['x'], resources: { memory: 'lots' }, dependsOn: ['dbb'] },
        db: { command: 'postgres', restart: { polcy: 'always' } },
      },
    },
    [
      'services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"',
      'services.db.command: expected a list, got "postgres"',
      'services.db.restart.polcy: unknown key; did you mean "policy"?',
      'services.web.dependsOn[0]: unknown service "dbb"; did you mean "db"?',
    ],
  ],
  ['unknown capability', web({ capabilities: ['CAP_NET_BIND_SERVICE', 'cap_fly'] }), ['services.web.capabilities[1]: unknown capability "cap_fly" (expected a name of capabilities(7), e.g. CAP_NET_BIND_SERVICE)']],
  ['noNewPrivileges not a boolean', web({ noNewPrivileges: 'yes' }), ['services.web.noNewPrivileges: expected true or false, got "yes"']],
];

describe('config schema', () => {
  describe('rejects broken configurations with exact messages', () => {
    for (const [what, input, expected] of BROKEN) {
      it(what, () => assert.deepEqual(problems(input), expected));
    }
  });

  it('reads supervisor.adoptTimeout as a duration (0 = services end with the supervisor) and names a bad one', () => {
    const of = (adoptTimeout: unknown) => validateConfig({ supervisor: { adoptTimeout }, services: { web: { command: ['/bin/true'] } } }).supervisor.adoptTimeout;
    assert.equal(of('0s'), 0);
    assert.equal(of('2s'), 2000);
    assert.throws(() => of('soon'), /supervisor\.adoptTimeout/);
  });

  it('fills the defaults', () => {
    const config = validateConfig({ services: { web: { command: ['/bin/true'] } } });
    assert.deepEqual(config.supervisor, {
      metrics: { host: '127.0.0.1', port: 9753 },
      control: defaultControlPath(),
      cgroupRoot: '/nsvisor',
      logDir: '/var/log/nsvisor',
      shutdownTimeout: 60_000,
      adoptTimeout: 30_000,
    });
    assert.deepEqual(config.networks, {});
    assert.deepEqual(config.services.web, {
      command: ['/bin/true'],
      env: {},
      isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup'],
      hostname: 'web',
      readonlyRoot: false,
      mounts: [],
      capabilities: 'default',
      noNewPrivileges: false,
      seccomp: 'default',
      privileged: false,
      devices: [],
      propagation: 'private',
      stop: { signal: 'SIGTERM', timeout: 10_000, drain: 5_000 },
      resources: {},
      listen: [],
      restart: { policy: 'on-failure', delay: 100, maxDelay: 30_000, resetAfter: 10_000 },
      dependsOn: [],
      instances: 1,
    });
  });

  it('converts sizes, durations, addresses and readiness', () => {
    const config = validateConfig({
      supervisor: { metrics: 'off', shutdownTimeout: '2m', control: '/tmp/n.sock', cgroupRoot: 'self', logDir: '-' },
      networks: { nsv0: { subnet: '10.88.0.0/24', nat: true } },
      services: {
        web: {
          command: ['x'],
          isolate: ['net', 'pid'],
          userns: 'auto',
          resources: { memory: '256Mi', memoryHigh: '200M', cpus: 0.5, cpuWeight: 100, pids: 128 },
          network: { attach: 'nsv0', address: '10.88.0.10' },
          listen: ['tcp://0.0.0.0:8080', 'tcp://[::1]:9', 'unix:///run/web.sock'],
          ready: { http: 'http://127.0.0.1:8081/healthz', timeout: '1.5s' },
        },
        db: { command: ['y'], ready: { exec: ['/bin/check', '-q'] }, restart: { policy: 'always', delay: '1s' } },
        cache: { command: ['z'], ready: { notify: true } },
        queue: { command: ['q'], ready: { tcp: 5672 } },
      },
    });
    assert.equal(config.supervisor.metrics, null);
    assert.equal(config.supervisor.shutdownTimeout, 120_000);
    assert.equal(config.supervisor.control, '/tmp/n.sock');
    assert.deepEqual(config.networks.nsv0, { subnet: '10.88.0.0/24', nat: true });
    const web = config.services.web;
    assert.deepEqual(web.isolate, ['net', 'pid', 'user'], 'userns adds "user"');
    assert.equal(web.hostname, undefined, 'no hostname without uts');
    assert.deepEqual(web.resources, { memory: 256 * 2 ** 20, memoryHigh: 200e6, cpus: 0.5, cpuWeight: 100, pids: 128 });
    assert.deepEqual(web.network, { attach: 'nsv0', address: '10.88.0.10' });
    assert.deepEqual(web.listen, [
      { type: 'tcp', url: 'tcp://0.0.0.0:8080', host: '0.0.0.0', port: 8080 },
      { type: 'tcp', url: 'tcp://[::1]:9', host: '::1', port: 9 },
      { type: 'unix', url: 'unix:///run/web.sock', path: '/run/web.sock' },
    ]);
    assert.deepEqual(web.ready, { type: 'http', url: 'http://127.0.0.1:8081/healthz', timeout: 1500 });
    assert.deepEqual(config.services.db.ready, { type: 'exec', command: ['/bin/check', '-q'], timeout: 30_000 });
    assert.deepEqual(config.services.db.restart, { policy: 'always', delay: 1000, maxDelay: 30_000, resetAfter: 10_000 });
    assert.deepEqual(config.services.cache.ready, { type: 'notify', timeout: 30_000 });
    assert.deepEqual(config.services.queue.ready, { type: 'tcp', port: 5672, timeout: 30_000 });
  });

  it('picks the control socket for root and for others', () => {
    assert.equal(defaultControlPath({}, 0), '/run/nsvisor/nsvisor.sock');
    assert.equal(defaultControlPath({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/nsvisor/nsvisor.sock');
    assert.equal(defaultControlPath({}, 1000), '/tmp/nsvisor-1000/nsvisor.sock');
  });

  it('orders services in dependency levels', () => {
    const config = validateConfig({
      services: {
        web: { command: ['x'], dependsOn: ['api', 'cache'] },
        api: { command: ['x'], dependsOn: ['db', 'cache'] },
        worker: { command: ['x'], dependsOn: ['db'] },
        db: { command: ['x'] },
        cache: { command: ['x'] },
        metrics: { command: ['x'] },
      },
    });
    assert.deepEqual(dependencyOrder(config), [['db', 'cache', 'metrics'], ['api', 'worker'], ['web']]);
  });

  it('refuses to order a cycle it is given unchecked', () => {
    const services = { a: { dependsOn: ['b'] }, b: { dependsOn: ['a'] }, c: { dependsOn: [] } };
    assert.throws(() => dependencyOrder({ services }), /dependency cycle or unknown dependency among a, b/);
  });
});
