// Unit tests of ServiceLog under load: a fast producer over a slow sink is paused with bounded memory and no loss; a flood leaves the event loop free.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable, Writable } from 'stream';

import { ServiceLog } from '../../src/logs';

/** A producer that pushes numbered lines synchronously, as fast as the stream lets it, until `total` lines. */
function producer(total: number, linesPerChunk: number): Readable & { produced: number; pausedSeen: boolean } {
  let next = 0;
  const r = new Readable({
    read() {
      if (r.isPaused()) r.pausedSeen = true;
      if (next >= total) return void this.push(null);
      let chunk = '';
      for (let i = 0; i < linesPerChunk && next < total; i++) chunk += `line ${next++} ${'x'.repeat(80)}\n`;
      r.produced = next;
      this.push(chunk);
    },
  }) as Readable & { produced: number; pausedSeen: boolean };
  r.produced = 0;
  r.pausedSeen = false;
  return r;
}

/** A writable that takes 5 ms per write and keeps what it got. */
function slowSink(): Writable & { text: string; lines: number } {
  const w = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      w.text += text;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) w.lines++;
      setTimeout(done, 5);
    },
  }) as Writable & { text: string; lines: number };
  w.text = '';
  w.lines = 0;
  return w;
}

function ended(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => stream.once('end', () => setImmediate(resolve)));
}

describe('logs: backpressure', () => {
  it('pauses a fast producer over a slow sink, keeps memory bounded and loses nothing', async () => {
    const maxBufferBytes = 64 * 1024;
    const sink = slowSink();
    const log = new ServiceLog('fast', { logDir: '-', out: sink, maxBufferBytes });
    const total = 20_000; // about 1.8 MiB
    const src = producer(total, 40);
    let maxBuffered = 0;
    let maxAhead = 0;
    log.follow(() => {
      maxBuffered = Math.max(maxBuffered, log.stats().bufferedBytes);
      maxAhead = Math.max(maxAhead, src.produced - sink.lines);
    });
    let pausedSeen = false;
    const probe = setInterval(() => (pausedSeen ||= log.stats().paused && src.isPaused()), 1);
    log.attach(src, 'stdout');
    await ended(src);
    clearInterval(probe);
    await log.close();

    console.log(`      max buffered ${maxBuffered} bytes, producer ahead by at most ${maxAhead} lines`);
    assert.ok(pausedSeen, 'the producer was paused');
    assert.ok(maxBuffered <= maxBufferBytes + 8 * 1024, `buffered at most the bound plus one chunk, got ${maxBuffered}`);
    // The bound (about 550 lines of 120 bytes) plus the producer's and the sink's own buffers.
    assert.ok(maxAhead < 2_000, `the producer ran at most a few buffers ahead of the sink, got ${maxAhead} lines`);
    const lines = sink.text.split('\n').slice(0, -1);
    assert.equal(lines.length, total);
    lines.forEach((line, i) => assert.match(line, new RegExp(`^fast \\| \\S+Z line ${i} x+$`)));
    assert.equal(log.stats().lines, total);
  });

  it('blocks a real child process in write(2) rather than dropping its output', async function () {
    const sink = slowSink();
    const log = new ServiceLog('child', { logDir: '-', out: sink, maxBufferBytes: 32 * 1024 });
    const child = spawn('sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i padding-padding-padding-padding-padding"; i=$((i+1)); done'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pausedSeen = false;
    const probe = setInterval(() => (pausedSeen ||= log.stats().paused), 1);
    log.attach(child.stdout, 'stdout');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearInterval(probe);
    await log.close();
    assert.equal(code, 0);
    assert.ok(pausedSeen, 'the pipe was paused');
    const lines = sink.text.split('\n').slice(0, -1);
    assert.equal(lines.length, 3000);
    assert.match(lines[2999], /line 2999 padding/);
  });

  it('keeps the event loop ticking while a service floods its log', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsvisor-flood-'));
    try {
      const log = new ServiceLog('flood', { logDir: dir }); // defaults: 1 MiB buffer, rotation at 10 MiB
      const total = 300_000; // about 35 MiB of output, through three rotations
      const src = producer(total, 700);
      let ticksDuringFlood = 0;
      const ticker = setInterval(() => {
        if (src.produced > 0 && src.produced < total) ticksDuringFlood++;
      }, 1);
      log.attach(src, 'stdout');
      await ended(src);
      clearInterval(ticker);
      await log.close();

      console.log(`      ${ticksDuringFlood} ticks during the flood`);
      assert.ok(ticksDuringFlood >= 10, `the event loop ticked ${ticksDuringFlood} times during the flood`);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['flood.log', 'flood.log.1', 'flood.log.2', 'flood.log.3']);
      let count = 0;
      for (const f of ['flood.log.3', 'flood.log.2', 'flood.log.1', 'flood.log']) {
        for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(0, -1)) {
          assert.equal(line.split(' ')[2], String(count++));
        }
        assert.ok(fs.statSync(path.join(dir, f)).size <= 10 * 1024 * 1024);
      }
      assert.equal(count, total);
      assert.equal(log.stats().lines, total);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
