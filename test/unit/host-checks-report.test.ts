// Unit tests of where limits can go (cgroup facts from fixtures), of the real host facts, and of what `check` prints with a fake host.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { layoutFrom } from '../../src/cgroup/detect';
import { checkSource } from '../../src/cli/check';
import { cgroupFacts, realHostFacts, v2Offer } from '../../src/process/host-context';
import { FakeHost } from './host-checks-fakes';

const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'cgroup');
const tree = path.join(fixtures, 'v2-tree');
const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);

describe('host checks: what the services\' cgroups can be limited with', () => {
  it('v2, root present: what it is offered (its cgroup.controllers), enabled through its parent', () => {
    assert.deepEqual(v2Offer(tree, '/nsvisor', read), {
      kind: 'v2',
      controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'],
      listedIn: `${tree}/nsvisor/cgroup.controllers`,
      enableIn: `${tree}/cgroup.subtree_control`,
      missingParent: null,
    });
  });

  it('v2, root not made yet: what its parent enables; deeper, nothing (the parents mkdir makes enable nothing for it)', () => {
    assert.deepEqual(v2Offer(tree, '/other', read), {
      kind: 'v2', controllers: ['cpu', 'memory', 'pids'], listedIn: `${tree}/cgroup.subtree_control`, enableIn: `${tree}/cgroup.subtree_control`, missingParent: null,
    });
    assert.deepEqual(v2Offer(tree, '/a/b', read), {
      kind: 'v2', controllers: [], listedIn: `${tree}/a/cgroup.subtree_control`, enableIn: `${tree}/a/cgroup.subtree_control`, missingParent: `${tree}/a`,
    });
  });

  it('hybrid and v1: the mounted v1 controllers; "self" on v2 is known only to the supervisor itself', () => {
    const hybrid = layoutFrom(fs.readFileSync(path.join(fixtures, 'mountinfo-hybrid'), 'utf8'), '0::/\n');
    assert.deepEqual(cgroupFacts('/nsvisor', hybrid, read, false), {
      kind: 'hybrid', controllers: Object.keys(hybrid.v1), listedIn: '/proc/self/mountinfo', enableIn: null, missingParent: null,
    });
    assert.ok(Object.keys(hybrid.v1).includes('memory'));
    const v2 = { kind: 'v2' as const, unified: tree, v1: {}, self: { '': '/nsvisor' } };
    assert.equal(cgroupFacts('self', v2, read, false).controllers, null);
    assert.deepEqual(cgroupFacts('self', v2, read, true).listedIn, `${tree}/nsvisor/cgroup.controllers`);
  });
});

describe('host checks: the real host facts (no root needed)', () => {
  it('see a socket this process listens on, with its owner, and files as lstat and stat do', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-facts-'));
    try {
      const host = realHostFacts();
      const { port } = server.address() as net.AddressInfo;
      const mine = host.tcpListeners().filter((l) => l.port === port);
      assert.deepEqual(mine.map(({ family, address }) => ({ family, address })), [{ family: 4, address: '127.0.0.1' }]);
      assert.equal(host.socketOwner(mine[0].inode)?.pid, process.pid);
      fs.writeFileSync(path.join(dir, 'f'), '#!/bin/sh\n', { mode: 0o640 });
      fs.symlinkSync('f', path.join(dir, 'l'));
      assert.deepEqual(host.lstat(path.join(dir, 'l')), { kind: 'symlink', mode: 0o777 });
      assert.deepEqual(host.stat(path.join(dir, 'l')), { kind: 'file', mode: 0o640 & ~process.umask() });
      assert.equal(host.readlink(path.join(dir, 'l')), 'f');
      assert.equal(host.readHead(path.join(dir, 'l'), 4)?.toString(), '#!/b');
      assert.equal(host.stat(path.join(dir, 'nope')), null);
      assert.equal(host.deviceExists('lo'), true);
      assert.equal(host.deviceExists('nsvt-nodev0'), false);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nsvisor check against a host', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-check-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    const file = path.join(dir, 'nsvisor.yaml');
    fs.writeFileSync(file, text);
    return file;
  };

  it('prints host problems in the schema problems\' format, and exits 2', async () => {
    const file = write('services:\n  db:\n    command: [/usr/bin/postgres]\n    resources: { memoryHigh: 100Mi }\n  web: { command: [app] }\n');
    assert.deepEqual(await checkSource(file, { host: new FakeHost() }), {
      output: [
        `${file}: 2 problems`,
        "services.db.resources.memoryHigh: this host's memory controller is cgroup v1, which has no memory.high; remove memoryHigh (memory, the hard limit, works on v1)",
        'services.db.command[0]: /usr/bin/postgres does not exist on this host; correct the path or install the program',
        '',
      ].join('\n'),
      exitCode: 2,
    });
  });

  it('says ok when the host can do everything; --schema-only does not ask the host', async () => {
    const file = write('services:\n  web: { command: [app], resources: { memory: 64Mi } }\n');
    assert.deepEqual(await checkSource(file, { host: new FakeHost() }), { output: `${file}: ok (1 service)\n`, exitCode: 0 });
    const bad = write('services:\n  web: { command: [nope], resources: { memoryHigh: 1Gi } }\n');
    assert.deepEqual(await checkSource(bad, { host: new FakeHost(), schemaOnly: true }), { output: `${bad}: ok (1 service)\n`, exitCode: 0 });
  });

  it('asks the host nothing while the schema has problems', async () => {
    const file = write('services:\n  web: { command: [nope], resources: { memory: lots } }\n');
    const host = new FakeHost();
    host.cgroups = () => assert.fail('the host was asked');
    assert.deepEqual(await checkSource(file, { host }), {
      output: `${file}: 1 problem\nservices.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"\n`,
      exitCode: 2,
    });
  });
});
