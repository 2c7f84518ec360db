// Unit tests of ServiceLog: timestamps, stderr marking, files and their modes, rotation, "-" mode, tail, follow.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';

import { ServiceLog } from '../../src/logs';

const ISO_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /;
const fixedClock = () => new Date('2026-11-29T03:04:05.678Z');

function read(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

describe('logs: service log', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-logs-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes each line with an ISO-8601 timestamp, marks stderr, flushes a partial last line at the end', async () => {
    const log = new ServiceLog('web', { logDir: path.join(dir, 'logs'), now: fixedClock });
    const out = new PassThrough();
    const err = new PassThrough();
    log.attach(out, 'stdout');
    log.attach(err, 'stderr');
    out.write('hello\nwor');
    err.end('oops\n');
    out.end('ld');
    await new Promise((r) => setImmediate(r));
    await log.close();
    const lines = read(path.join(dir, 'logs', 'web.log'));
    assert.deepEqual(lines.sort(), [
      '2026-11-29T03:04:05.678Z [stderr] oops',
      '2026-11-29T03:04:05.678Z hello',
      '2026-11-29T03:04:05.678Z world',
    ]);
  });

  it('uses the real clock by default', async () => {
    const log = new ServiceLog('web', { logDir: dir });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.end('x\n');
    await new Promise((r) => setImmediate(r));
    await log.close();
    const [line] = read(path.join(dir, 'web.log'));
    assert.match(line, ISO_LINE);
    assert.ok(Math.abs(Date.parse(line.split(' ')[0]) - Date.now()) < 60_000);
  });

  it('creates the directory 0700 and the file 0600, and makes an existing file 0600', async () => {
    const logDir = path.join(dir, 'a', 'b');
    const log = new ServiceLog('web', { logDir });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.write('x\n');
    await log.flush();
    await log.close();
    assert.equal(fs.statSync(logDir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(logDir, 'web.log')).mode & 0o777, 0o600);

    fs.chmodSync(path.join(logDir, 'web.log'), 0o644);
    const again = new ServiceLog('web', { logDir });
    const out2 = new PassThrough();
    again.attach(out2, 'stdout');
    out2.end('y\n');
    await new Promise((r) => setImmediate(r));
    await again.close();
    assert.equal(fs.statSync(path.join(logDir, 'web.log')).mode & 0o777, 0o600);
    assert.equal(read(path.join(logDir, 'web.log')).length, 2);
  });

  it('rotates at the size, keeps exactly 5 files newest first, never exceeds the size', async () => {
    // Each line "2026-11-29T03:04:05.678Z line NN" is 33 bytes with its newline: 3 lines per 100-byte file.
    const log = new ServiceLog('db', { logDir: dir, rotateBytes: 100, now: fixedClock });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    for (let i = 0; i < 30; i++) {
      out.write(`line ${String(i).padStart(2, '0')}\n`);
      await log.flush(); // one batch per line, so every rotation point is exercised
    }
    await log.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['db.log', 'db.log.1', 'db.log.2', 'db.log.3', 'db.log.4', 'db.log.5']);
    const numbers = (f: string) => read(path.join(dir, f)).map((l) => Number(l.slice(-2)));
    assert.deepEqual(numbers('db.log'), [27, 28, 29]);
    assert.deepEqual(numbers('db.log.1'), [24, 25, 26]);
    assert.deepEqual(numbers('db.log.5'), [12, 13, 14]);
    for (const f of fs.readdirSync(dir)) {
      assert.ok(fs.statSync(path.join(dir, f)).size <= 100, f);
      assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
    }
  });

  it('rotates inside one large batch at line boundaries', async () => {
    const log = new ServiceLog('db', { logDir: dir, rotateBytes: 100, now: fixedClock });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.end(Array.from({ length: 9 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`).join(''));
    await new Promise((r) => setImmediate(r));
    await log.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['db.log', 'db.log.1', 'db.log.2']);
    assert.equal(read(path.join(dir, 'db.log.2'))[0].slice(-7), 'line 00');
  });

  it('with logDir "-" writes "NAME | line" to the given stream and no file', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (c: Buffer) => (text += c.toString()));
    const log = new ServiceLog('web', { logDir: '-', out: sink, now: fixedClock });
    const err = new PassThrough();
    log.attach(err, 'stderr');
    err.end('bad\npartial');
    await new Promise((r) => setImmediate(r));
    await log.close();
    assert.equal(text, 'web | 2026-11-29T03:04:05.678Z [stderr] bad\nweb | 2026-11-29T03:04:05.678Z [stderr] partial\n');
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.deepEqual(log.stats(), { lines: 2, bytes: text.length, cutPieces: 0, droppedLines: 0, bufferedBytes: 0, paused: false });
  });

  it('refuses "-" without a stream', () => {
    assert.throws(() => new ServiceLog('web', { logDir: '-' }), /web: logDir "-" needs an output stream/);
  });

  it('takes output from each restarted instance and counts lines and bytes', async () => {
    const log = new ServiceLog('web', { logDir: dir, now: fixedClock });
    for (const run of ['first', 'second']) {
      const out = new PassThrough();
      log.attach(out, 'stdout');
      out.end(`${run}\n`);
      await new Promise((r) => setImmediate(r));
    }
    await log.flush();
    assert.deepEqual(await log.tail(10), ['2026-11-29T03:04:05.678Z first', '2026-11-29T03:04:05.678Z second']);
    const s = log.stats();
    assert.equal(s.lines, 2);
    assert.equal(s.bytes, fs.statSync(path.join(dir, 'web.log')).size);
    await log.close();
  });

  it('tails from the ring, then from the live and rotated files when more is asked', async () => {
    // An earlier run left lines 0..19 on disk; this run logs 20..39 with a ring of 5.
    const earlier = new ServiceLog('db', { logDir: dir, rotateBytes: 100, now: fixedClock });
    const first = new PassThrough();
    earlier.attach(first, 'stdout');
    for (let i = 0; i < 20; i++) first.write(`line ${String(i).padStart(2, '0')}\n`);
    first.end();
    await new Promise((r) => setImmediate(r));
    await earlier.close();

    const log = new ServiceLog('db', { logDir: dir, rotateBytes: 100, ringLines: 5, now: fixedClock });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    for (let i = 20; i < 40; i++) out.write(`line ${i}\n`);
    await new Promise((r) => setImmediate(r));
    const numbers = (lines: string[]) => lines.map((l) => Number(l.slice(-2)));
    assert.deepEqual(numbers(await log.tail(3)), [37, 38, 39]);
    assert.deepEqual(numbers(await log.tail(5)), [35, 36, 37, 38, 39]);
    assert.deepEqual(numbers(await log.tail(12)), [28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    // The live file holds 39 alone, the 5 rotated ones 24..38: asking for more gives what is left, in order.
    assert.deepEqual(numbers(await log.tail(100)), Array.from({ length: 16 }, (_, i) => 24 + i));
    await log.close();
  });

  it('follows new lines until unsubscribed', async () => {
    const log = new ServiceLog('web', { logDir: dir, now: fixedClock });
    const seen: string[] = [];
    const stop = log.follow((line) => seen.push(line));
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.write('a\nb\n');
    await new Promise((r) => setImmediate(r));
    stop();
    out.write('c\n');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['2026-11-29T03:04:05.678Z a', '2026-11-29T03:04:05.678Z b']);
    await log.close();
  });

  it('keeps the stream name of a partial stderr line taken at close, and survives a throwing follower', async () => {
    const errors: Error[] = [];
    const log = new ServiceLog('web', { logDir: dir, now: fixedClock, onError: (e) => errors.push(e) });
    log.follow(() => {
      throw new Error('client gone');
    });
    const err = new PassThrough();
    log.attach(err, 'stderr');
    err.write('half');
    await new Promise((r) => setImmediate(r));
    await log.close();
    assert.deepEqual(read(path.join(dir, 'web.log')), ['2026-11-29T03:04:05.678Z [stderr] half']);
    assert.deepEqual(errors.map((e) => e.message), ['client gone']);
    err.emit('error', new Error('EIO')); // still handled after close: no uncaught exception
  });

  it('counts cut pieces of overlong lines', async () => {
    const log = new ServiceLog('web', { logDir: dir, maxLineBytes: 8, now: fixedClock });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.end('0123456789abcdefXYZ\n');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await log.tail(3), [
      '2026-11-29T03:04:05.678Z 01234567 [cut]',
      '2026-11-29T03:04:05.678Z 89abcdef [cut]',
      '2026-11-29T03:04:05.678Z XYZ',
    ]);
    assert.equal(log.stats().cutPieces, 2);
    await log.close();
  });

  it('takes the partial line of a pipe still attached at close, and refuses attach afterwards', async () => {
    const log = new ServiceLog('web', { logDir: dir, now: fixedClock });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.write('unfinished');
    await new Promise((r) => setImmediate(r));
    await log.close();
    assert.deepEqual(read(path.join(dir, 'web.log')), ['2026-11-29T03:04:05.678Z unfinished']);
    assert.throws(() => log.attach(new PassThrough(), 'stdout'), /web: log is closed/);
  });

  it('reports a write failure and goes on', async () => {
    fs.writeFileSync(path.join(dir, 'file'), '');
    const errors: Error[] = [];
    const log = new ServiceLog('web', { logDir: path.join(dir, 'file'), onError: (e) => errors.push(e) });
    const out = new PassThrough();
    log.attach(out, 'stdout');
    out.end('x\n');
    await new Promise((r) => setImmediate(r));
    await log.close();
    assert.equal(errors.length, 1);
    assert.equal(log.stats().droppedLines, 1);
  });
});
