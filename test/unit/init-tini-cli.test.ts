// nsvisor-init's command line as tini's: --version, -h, -l, exit codes of its own errors and of the command, -e (any number of codes), -v and TINI_VERBOSITY, and `nsvisor init` reaching it without Node.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { BIN, init, run } from './init-tini-helpers';

const version: string = require('../../../package.json').version;

describe('nsvisor-init: command line (tini compatible)', () => {
  it('--version alone prints the version and exits 0; among other words it is an unknown option (exit 1)', () => {
    assert.deepEqual(init(['--version']), { code: 0, signal: null, stdout: `nsvisor-init version ${version}\n`, stderr: '' });
    const mixed = init(['--version', '--foo']);
    assert.equal(mixed.code, 1);
    assert.equal(mixed.stdout, '');
    assert.match(mixed.stderr, /^nsvisor-init: unknown option --version\n/);
  });

  it('-h and --help print the usage on stdout and exit 0; it names every option and variable', () => {
    for (const flag of ['-h', '--help']) {
      const r = init([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^nsvisor-init \S+: a tini-compatible init/);
      for (const word of ['-s ', '-p SIGNAL', '-v ', '-w ', '-g ', '-e CODE', '-l ', '--version', '--drain MS', '--drain 0', 'TINI_SUBREAPER', 'TINI_KILL_PROCESS_GROUP', 'TINI_VERBOSITY']) {
        assert.ok(r.stdout.includes(word), `usage mentions ${word}`);
      }
    }
  });

  it("-l prints nsvisor's MIT license and exits 0", () => {
    const r = init(['-l']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^MIT License\n\nCopyright \(c\) \d{4} the nsvisor authors\n/);
    assert.match(r.stdout, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
    assert.equal(require('../../../package.json').license, 'MIT');
  });

  it('its own errors exit 1, as tini: no command, an unknown option, a missing or bad value', () => {
    const cases: [string[], RegExp][] = [
      [[], /^nsvisor-init: missing the command to run\n/],
      [['--'], /^nsvisor-init: missing the command to run\n/],
      [['-x', 'true'], /^nsvisor-init: unknown option -x\n/],
      [['--frobnicate', 'true'], /^nsvisor-init: unknown option --frobnicate\n/],
      [['-e'], /^nsvisor-init: option -e needs a value\n/],
      [['-e', '256', 'true'], /^nsvisor-init: -e 256: expected an exit code from 0 to 255\n$/],
      [['-e', 'x', 'true'], /^nsvisor-init: -e x: expected an exit code from 0 to 255\n$/],
      [['-p', 'SIGNOPE', 'true'], /^nsvisor-init: -p SIGNOPE: expected a signal such as SIGTERM or SIGKILL\n$/],
      [['--drain', '-5', 'true'], /^nsvisor-init: --drain -5: expected a number from 0 to 86400000\n$/],
      [['--stop-signal', 'NOPE', 'true'], /^nsvisor-init: --stop-signal NOPE: expected a signal such as SIGTERM or 15\n$/],
      [['--caps', 'xyz', 'true'], /^nsvisor-init: --caps xyz: expected a hexadecimal mask\n$/],
    ];
    for (const [args, message] of cases) {
      const r = init(args);
      assert.equal(r.code, 1, `exit code of nsvisor-init ${args.join(' ')}`);
      assert.match(r.stderr, message);
    }
  });

  it("exits with the command's code, 128+N for signal N, 127 not found, 126 not executable", () => {
    assert.equal(init(['--', 'sh', '-c', 'exit 3']).code, 3);
    assert.equal(init(['sh', '-c', 'exit 4']).code, 4, 'options end at the first word that is not one, so no -- is needed');
    assert.equal(init(['--', 'sh', '-c', 'kill -TERM $$']).code, 143);
    assert.equal(init(['--', 'sh', '-c', 'kill -KILL $$']).code, 137);
    // execvp reports EACCES if any PATH directory refused it: search only the usual ones, which anyone may.
    const usualPath = { env: { ...process.env, PATH: '/usr/local/bin:/usr/bin:/bin' } };
    const missing = init(['--', 'no-such-command-here'], usualPath);
    assert.deepEqual([missing.code, missing.stderr], [127, 'nsvisor-init: execve(no-such-command-here): No such file or directory\n']);
    assert.equal(init(['--', '/etc']).code, 126);
    assert.equal(init(['-vvv', '--', '--', 'true'], usualPath).code, 127, 'after --, the next -- is the command');
  });

  it('-e maps codes to 0: one, several, and all 256 (no limit on how many)', () => {
    assert.equal(init(['-e', '3', '--', 'sh', '-c', 'exit 3']).code, 0);
    assert.equal(init(['-e3', '-e', '4', '--', 'sh', '-c', 'exit 4']).code, 0, '-eCODE and -e CODE');
    assert.equal(init(['-e', '3', '--', 'sh', '-c', 'exit 5']).code, 5);
    assert.equal(init(['-e', '143', '--', 'sh', '-c', 'kill -TERM $$']).code, 0, '128+N is mapped too');
    const allBut = (skip: number) => Array.from({ length: 256 }, (_, c) => c).filter((c) => c !== skip).flatMap((c) => ['-e', String(c)]);
    assert.equal(init([...allBut(7), '--', 'sh', '-c', 'exit 7']).code, 7, '255 codes given, not the one that came');
    assert.equal(init([...allBut(-1), '--', 'sh', '-c', 'exit 7']).code, 0, 'all 256 codes given');
  });

  it('-v, -vv, -vvv: info, debug and trace lines on stdout; warnings only by default; TINI_VERBOSITY wins', () => {
    const lines = (r: { stdout: string }) => r.stdout.split('\n').filter(Boolean);
    assert.deepEqual(init(['--', 'true']), { code: 0, signal: null, stdout: '', stderr: '' });
    const info = lines(init(['-v', '--', 'true']));
    assert.equal(info.length, 2, info.join('\n'));
    assert.match(info[0], /^\[INFO  nsvisor-init \(\d+\)\] spawned true as pid \d+$/);
    assert.match(info[1], /^\[INFO  nsvisor-init \(\d+\)\] main process \d+ exited with code 0$/);
    assert.ok(lines(init(['-vv', '--', 'true'])).some((l) => /^\[DEBUG nsvisor-init \(\d+\)\] Received SIGCHLD$/.test(l)));
    const trace = lines(init(['-v', '-vv', '--', 'true']));
    assert.ok(trace.some((l) => /^\[TRACE nsvisor-init \(\d+\)\] registered as a child subreaper$/.test(l)), '-v counts across words');
    const env = (v: string) => ({ env: { ...process.env, TINI_VERBOSITY: v } });
    assert.ok(lines(init(['--', 'true'], env('3'))).some((l) => l.includes('Received SIGCHLD')), 'TINI_VERBOSITY=3');
    assert.deepEqual(lines(init(['-vvv', '--', 'true'], env('0'))), [], 'TINI_VERBOSITY=0 wins over -vvv');
  });
});

describe('nsvisor init: straight to nsvisor-init, without Node', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'init-bin-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bin/nsvisor init execs nsvisor-init before any Node starts, also through chained, relative symlinks (npm bin links)', () => {
    // A Node started with this NODE_OPTIONS fails at once: `init` succeeding proves none ran.
    const noNode = { env: { ...process.env, NODE_OPTIONS: '--require=/nonexistent/nsvisor-test-no-node' } };
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.symlinkSync(BIN, path.join(dir, 'first'));
    fs.symlinkSync('../first', path.join(dir, 'bin', 'nsvisor'));
    for (const file of [BIN, path.join(dir, 'bin', 'nsvisor')]) {
      const r = run(file, ['init', '-e', '3', '--', 'sh', '-c', 'echo "$0"; exit 3'], noNode);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'sh\n', ''], `${file} init`);
      assert.match(run(file, ['init', '--version'], noNode).stdout, /^nsvisor-init version /);
      assert.equal(run(file, ['--version'], noNode).code, 1, `${file} --version (not init) starts Node, which fails here`);
      assert.equal(run(file, ['--version']).stdout, `${version}\n`, `${file} --version runs the Node CLI`);
    }
  });

  it('node bin/nsvisor init passes every word on untouched, and CMD gets the defaults, not the SIGPIPE Node ignores', () => {
    const r = run(process.execPath, [BIN, 'init', '-vvv', '-e', '3', '--', 'sh', '-c', 'grep -E "^SigIgn" /proc/self/status; exit 3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SigIgn:\s+0+$/m);
    assert.match(r.stdout, /registered as a child subreaper/);
    const dash = run(process.execPath, [BIN, 'init', '--', '-x'], { env: { ...process.env, PATH: '/usr/local/bin:/usr/bin:/bin' } });
    assert.deepEqual([dash.code, dash.stderr], [127, 'nsvisor-init: execve(-x): No such file or directory\n']);
  });
});
