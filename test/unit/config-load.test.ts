// Unit tests of reading configurations: YAML errors with positions, where the file is looked for, demo, examples, JSON Schema, `check`.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { checkSource } from '../../src/cli/check';
import { demoConfig } from '../../src/config/demo';
import { ConfigError } from '../../src/config/issues';
import { configJsonSchemaText, JSON_SCHEMA_FILE } from '../../src/config/json-schema';
import { loadConfig, loadConfigSource, parseConfigText, resolveConfigSource } from '../../src/config/load';
import { dependencyOrder, validateConfig } from '../../src/config/schema';

const ROOT = path.join(__dirname, '..', '..', '..');

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('config loading', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-config-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports YAML syntax errors with file, line and column', () => {
    const text = 'services:\n  web:\n    command: [/bin/true]\n    env: { A: 1\n  db: {}\n';
    assert.deepEqual(problemsOf(() => parseConfigText(text, 'bad.yaml')), [
      'bad.yaml:5:3: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    assert.deepEqual(problemsOf(() => parseConfigText('services:\n  web: {}\n  web: {}\n', 'dup.yaml')), ['dup.yaml:3:3: Map keys must be unique']);
    assert.deepEqual(problemsOf(() => parseConfigText('\t- x\n', 'tab.yaml')), ['tab.yaml:1:1: Tabs are not allowed as indentation']);
  });

  it('says so when the file is empty', () => {
    assert.deepEqual(problemsOf(() => parseConfigText('# nothing\n', 'empty.yaml')), ['empty.yaml: the file is empty; it needs at least a services section']);
  });

  it('reads JSON as well as YAML', () => {
    const config = parseConfigText('{"services": {"web": {"command": ["/bin/true"], "resources": {"memory": "1Mi"}}}}', 'c.json');
    assert.equal(config.services.web.resources.memory, 2 ** 20);
  });

  it('loads a file, and names a missing one', async () => {
    const file = path.join(dir, 'nsvisor.yaml');
    fs.writeFileSync(file, 'services:\n  web:\n    command: [/bin/true]\n    restart: { delay: 2s }\n');
    assert.equal((await loadConfig(file)).services.web.restart.delay, 2000);
    await assert.rejects(loadConfig(path.join(dir, 'nope.yaml')), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, [`${path.join(dir, 'nope.yaml')}: cannot read: no such file`]);
      return true;
    });
  });

  it('looks for -c FILE, then ./nsvisor.yaml, then falls back to the demo', () => {
    assert.deepEqual(resolveConfigSource('/etc/x.yaml', dir), { kind: 'file', path: '/etc/x.yaml' });
    assert.deepEqual(resolveConfigSource(undefined, dir), { kind: 'demo' });
    fs.writeFileSync(path.join(dir, 'nsvisor.yaml'), 'services: {}\n');
    assert.deepEqual(resolveConfigSource(undefined, dir), { kind: 'file', path: path.join(dir, 'nsvisor.yaml') });
  });

  it('has a valid built-in demo: an HTTP service, a worker after it, metrics on', async () => {
    const config = await loadConfigSource({ kind: 'demo' });
    assert.deepEqual(dependencyOrder(config), [['web'], ['worker']]);
    assert.deepEqual(config.services.web.isolate, ['pid', 'mount', 'uts', 'ipc', 'cgroup']);
    assert.deepEqual(config.services.web.resources, { memory: 64 * 2 ** 20, pids: 64 });
    assert.equal(config.services.web.command[0], process.execPath);
    assert.deepEqual(config.supervisor.metrics, { host: '127.0.0.1', port: 9753 });
    assert.equal(validateConfig(demoConfig('/usr/bin/node')).services.web.command[0], '/usr/bin/node');
    // The programs themselves at least parse: the server as JavaScript, the worker as sh.
    assert.doesNotThrow(() => new Function(config.services.web.command[3]));
    const sh = spawnSync('/bin/sh', ['-n', '-c', config.services.worker.command[2]], { encoding: 'utf8' });
    assert.equal(sh.status, 0, sh.stderr);
  });

  it('accepts every file in examples/', () => {
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => /\.ya?ml$/.test(f));
    assert.ok(files.length >= 2, 'examples/ has configurations');
    for (const f of files) {
      const file = path.join(ROOT, 'examples', f);
      assert.doesNotThrow(() => parseConfigText(fs.readFileSync(file, 'utf8'), file), `examples/${f}`);
    }
  });

  it('has a committed JSON Schema equal to the generated one (run `npm run schema`)', () => {
    assert.equal(fs.readFileSync(JSON_SCHEMA_FILE, 'utf8'), configJsonSchemaText(), 'schema/nsvisor.schema.json is stale: npm run schema');
  });

  describe('nsvisor check', () => {
    it('prints "ok" with the number of services', async () => {
      const file = path.join(dir, 'good.yaml');
      fs.writeFileSync(file, 'services:\n  a: { command: [x] }\n  b: { command: [y], dependsOn: [a] }\n');
      assert.deepEqual(await checkSource(file, { schemaOnly: true }), { output: `${file}: ok (2 services)\n`, exitCode: 0 });
    });

    it('prints a header and one line per problem, and exits 2', async () => {
      const file = path.join(dir, 'bad.yaml');
      fs.writeFileSync(file, 'services:\n  web:\n    command: [x]\n    resources: { memory: lots }\n    dependsOn: [dbb]\n  db: { command: [y] }\n');
      assert.deepEqual(await checkSource(file), {
        output: [
          `${file}: 2 problems`,
          'services.web.resources.memory: expected a size like 256Mi, 1G or 65536, got "lots"',
          'services.web.dependsOn[0]: unknown service "dbb"; did you mean "db"?',
          '',
        ].join('\n'),
        exitCode: 2,
      });
    });

    it('exits 2 from the command line, and 0 for a good file', () => {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'services:\n  web: { command: [x], restart: { polcy: always } }\n');
      const run = (file: string, ...flags: string[]) =>
        spawnSync(process.execPath, [path.join(ROOT, 'bin', 'nsvisor'), 'check', '-c', file, ...flags], { encoding: 'utf8' });
      const r = run(bad);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, `${bad}: 1 problem\nservices.web.restart.polcy: unknown key; did you mean "policy"?\n`);
      // The example describes another machine (PostgreSQL 16, cgroup v2): its schema is valid.
      assert.equal(run(path.join(ROOT, 'examples', 'web-db.yaml'), '--schema-only').status, 0);
    });

    it('checks the demo when there is no file', async () => {
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        assert.deepEqual(await checkSource(undefined, { schemaOnly: true }), { output: '(built-in demo): ok (2 services)\n', exitCode: 0 });
      } finally {
        process.chdir(cwd);
      }
    });
  });
});
