// Real servers keep working under the default hardening (capabilities, seccomp, masks, own /dev and cgroup view): each started by a real `nsvisor run` and checked by a real request.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { freePort } from '../../bench/listen-example';
import { killBackground, requireRoot, SLOWDOWN, waitFor } from './helpers';
import { removeRoots, RunningSupervisor, startRun, stateOf, stopRun } from './supervisor-helpers';

const PYTHON = '/usr/bin/python3';
const NGINX = '/usr/sbin/nginx';
const REDIS = '/usr/bin/redis-server';
const PG_BIN = '/usr/lib/postgresql/15/bin';
/** Docker's 14 capabilities as /proc/PID/status shows them. */
const DEFAULT_CAPS = '00000000a80425fb';

/** Skips the test, saying why, when `program` is not installed. */
function need(ctx: Mocha.Context, program: string, pkg: string): void {
  if (fs.existsSync(program)) return;
  console.log(`    ${program} is not installed here: skipped (Debian: apt-get install ${pkg})`);
  ctx.skip();
}

function httpGet(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

/** Writes `request` on a raw TCP connection and collects the answer until `done` says it is whole. */
function tcpExchange(port: number, request: Buffer, done: (answer: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    s.setTimeout(10_000 * SLOWDOWN, () => s.destroy(new Error(`no whole answer on port ${port}: ${Buffer.concat(chunks).toString('latin1')}`)));
    s.on('data', (d) => {
      chunks.push(d);
      if (done(Buffer.concat(chunks))) s.end(() => resolve(Buffer.concat(chunks)));
    });
    s.on('error', reject);
  });
}

/** A PostgreSQL v3 message: type byte, then int32 length (itself included), then the body. */
function pgMessage(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(type, 'latin1'), len, body]);
}

/** The startup message for user `postgres` (trust authentication), then the simple query SELECT 6*7. */
function pgSelect(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0', 'latin1');
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(params.length + 8);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([startup, params, pgMessage('Q', Buffer.from('SELECT 6*7\0', 'latin1'))]);
}

/** The protocol's messages of an answer; a partial last one is left out. */
function pgMessages(answer: Buffer): { type: string; body: Buffer }[] {
  const out: { type: string; body: Buffer }[] = [];
  for (let at = 0; at + 5 <= answer.length;) {
    const end = at + 1 + answer.readInt32BE(at + 1);
    if (end > answer.length) break;
    out.push({ type: String.fromCharCode(answer[at]), body: answer.subarray(at + 5, end) });
    at = end;
  }
  return out;
}

describe('real programs under the default hardening (root, real kernel)', function () {
  this.timeout(120_000 * SLOWDOWN);
  const dirs: string[] = [];
  let run: RunningSupervisor | null = null;

  before(requireRoot);
  afterEach(async () => {
    if (run) assert.equal(await stopRun(run), 0, run.output());
    run = null;
    killBackground();
    await removeRoots();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  const tmpDir = (name: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `nsvtest-${name}-`));
    dirs.push(d);
    return d;
  };

  /** Starts `service` as the only service of a run, ready once its port takes connections; checks that it runs with
      the default capabilities and a seccomp filter. */
  async function serve(service: Record<string, unknown>, port: number): Promise<void> {
    run = await startRun({ app: { restart: { policy: 'never' }, ready: { tcp: port, timeout: `${60 * SLOWDOWN}s` }, ...service } });
    const r = run;
    await waitFor(`app to be ready (output: ${r.output()})`, () => {
      const s = stateOf(r, 'app');
      assert.ok(!['failed', 'stopped', 'backoff'].includes(s.state), `app is ${s.state}: ${s.failure ?? ''}\n${r.ctl(['logs', 'app']).stdout}`);
      return s.state === 'running';
    }, 60_000, 50);
    const status = fs.readFileSync(`/proc/${stateOf(r, 'app').pid}/status`, 'utf8');
    assert.match(status, /^Seccomp:\s+2$/m, 'the default filter is on');
    const eff = /^CapEff:\s+(\S+)$/m.exec(status)![1];
    assert.ok(eff === DEFAULT_CAPS || eff === '0000000000000000', `CapEff ${eff}: the default set (root) or none`);
  }

  it('python3 -m http.server answers a GET', async () => {
    const port = await freePort();
    const site = tmpDir('site');
    fs.writeFileSync(path.join(site, 'hello.txt'), 'hello from python\n');
    await serve({ command: [PYTHON, '-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', site] }, port);
    assert.deepEqual(await httpGet(port, '/hello.txt'), { status: 200, body: 'hello from python\n' });
  });

  it('node with a small http server answers a GET', async () => {
    const port = await freePort();
    const js = `require('http').createServer((q, s) => s.end('hello from node ' + q.url)).listen(${port}, '127.0.0.1')`;
    await serve({ command: [process.execPath, '-e', js] }, port);
    assert.deepEqual(await httpGet(port, '/x'), { status: 200, body: 'hello from node /x' });
  });

  it('nginx (a root master, workers under an unprivileged user) answers a GET', async function () {
    need(this, NGINX, 'nginx-light'); // .ci/run installs it
    const port = await freePort();
    const dir = tmpDir('nginx');
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join(' ');
    fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off; worker_processes 2; pid ${dir}/nginx.pid; error_log stderr;
events {}
http { access_log off; ${temps}
  server { listen 127.0.0.1:${port}; location / { return 200 "hello from nginx\\n"; } } }
`);
    await serve({ command: [NGINX, '-e', 'stderr', '-c', path.join(dir, 'nginx.conf')] }, port);
    assert.deepEqual(await httpGet(port, '/'), { status: 200, body: 'hello from nginx\n' });
    const workers = fs.readFileSync(`${stateOf(run!, 'app').cgroupProcs[0]}`, 'utf8').trim().split('\n').length;
    assert.ok(workers >= 4, `init, master and 2 workers in the cgroup (${workers})`);
  });

  it('redis-server answers PING with PONG on a raw TCP socket', async function () {
    need(this, REDIS, 'redis-server'); // .ci/run installs it
    const port = await freePort();
    const dir = tmpDir('redis');
    await serve({ command: [REDIS, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'] }, port);
    const answer = await tcpExchange(port, Buffer.from('PING\r\n'), (a) => a.includes('\r\n'));
    assert.equal(answer.toString(), '+PONG\r\n');
  });

  it('postgres (as its own user) answers SELECT 6*7 with 42', async function () {
    // Not installed by .ci/run (the package costs more than the test gains there).
    need(this, `${PG_BIN}/postgres`, 'postgresql-15');
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim() + ':' + spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim();
    const port = await freePort();
    const dir = tmpDir('pg');
    fs.chownSync(dir, ...(ids.split(':').map(Number) as [number, number]));
    const data = path.join(dir, 'data');
    const init = spawnSync('setpriv', [`--reuid=${ids.split(':')[0]}`, `--regid=${ids.split(':')[1]}`, '--clear-groups', `${PG_BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr);
    await serve({ command: [`${PG_BIN}/postgres`, '-D', data, '-k', dir, '-p', String(port), '-h', '127.0.0.1'], user: ids }, port);
    // Whole once the second ReadyForQuery came: the first follows the startup, the second the query.
    const answer = pgMessages(await tcpExchange(port, pgSelect(), (a) => pgMessages(a).filter((m) => m.type === 'Z').length === 2));
    const row = answer.find((m) => m.type === 'D');
    assert.ok(row, `a data row in ${answer.map((m) => m.type).join('')}`);
    // DataRow: int16 column count, then int32 length and the text of each column.
    assert.equal(row.body.subarray(6, 6 + row.body.readInt32BE(2)).toString(), '42');
  });
});
