// Unit tests of the peeked pipe reader: lines taken from the pipe only once written, the unfinished line left there (not polled), a reader that dies loses nothing; and a real pipe through ServiceLog.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { Writable } from 'stream';

import { ServiceLog } from '../../src/logs';
import { headLines, spanText, Spans } from '../../src/logs/line-splitter';
import { PeekInput, PipeInput } from '../../src/logs/peek-input';
import { PipeAttachment, PipeLog } from '../../src/logs/pipe-attachment';
import { addon } from '../../src/native';
import { waitFor } from '../integration/helpers';

/** A pipe in memory: what was written and not consumed, whether a writer is left, who waits for bytes. */
class FakePipe implements PeekInput {
  data = Buffer.alloc(0);
  consumed = 0;
  writers = true;
  watching: (() => void) | null = null;
  discarded = false;
  closed = false;
  peeks = 0;

  write(text: string): void {
    this.data = Buffer.concat([this.data, Buffer.from(text)]);
    this.wake();
  }
  hangUp(): void {
    this.writers = false;
    this.wake();
  }
  private wake(): void {
    const w = this.watching;
    this.watching = null;
    w?.();
  }
  peek(max: number): Buffer | null {
    this.peeks++;
    if (this.data.length === 0 && !this.writers) return null;
    return Buffer.from(this.data.subarray(0, max));
  }
  consume(n: number): void {
    assert.ok(n <= this.data.length, `consume(${n}) of ${this.data.length} bytes`);
    this.data = this.data.subarray(n);
    this.consumed += n;
  }
  available(): number {
    return this.data.length;
  }
  hungUp(): boolean {
    return !this.writers;
  }
  watch(onReadable: () => void): void {
    if (this.data.length > 0 || !this.writers) return void setImmediate(onReadable);
    this.watching = onReadable;
  }
  discard(): void {
    this.discarded = true;
  }
  close(): void {
    this.closed = true;
  }
}

/** A log that keeps the lines handed to it and lets the test say when their write is over. */
function fakeLog(): PipeLog & { lines: string[]; pending: (() => void)[]; ends: number; writeAll(): void } {
  const log = {
    lines: [] as string[],
    pending: [] as (() => void)[],
    ends: 0,
    deliver(spans: Spans, _cut: number, _source: string, written: () => void) {
      for (let i = 0; i < spans.at.length / 3; i++) log.lines.push(spanText(spans, i));
      log.pending.push(written);
    },
    ended() {
      log.ends++;
    },
    writeAll() {
      const p = log.pending.splice(0);
      for (const done of p) done();
    },
  };
  return log;
}

const timing = { peekBytes: 1024, maxLineBytes: 16, tailRetryMs: 5, tailLingerMs: 60 };

describe('logs: a peeked pipe', () => {
  it('headLines covers the whole lines and the pieces of an overlong one; the tail only with `all`', () => {
    const buf = Buffer.from('ab\r\ncd\n0123456789xyz');
    const some = headLines(buf, 8, false);
    assert.deepEqual(Array.from({ length: some.spans.at.length / 3 }, (_, i) => spanText(some.spans, i)), ['ab', 'cd', '01234567 [cut]']);
    assert.deepEqual([some.through, some.cut], [15, 1]);
    const all = headLines(Buffer.from('ab\nhalf\r'), 8, true);
    assert.deepEqual(Array.from({ length: all.spans.at.length / 3 }, (_, i) => spanText(all.spans, i)), ['ab', 'half']);
    assert.equal(all.through, 8);
    assert.equal(headLines(Buffer.from('no newline'), 16, false).through, 0);
  });

  it('takes nothing from the pipe before the write is over, then exactly the lines written', async () => {
    const pipe = new FakePipe();
    const log = fakeLog();
    new PipeAttachment(pipe, 'stdout', log, timing).start();
    pipe.write('one\ntwo\nthr');
    await waitFor('the lines handed over', () => log.pending.length === 1);
    assert.deepEqual(log.lines, ['one', 'two']);
    assert.equal(pipe.consumed, 0, 'nothing consumed while the write runs');
    log.writeAll();
    assert.equal(pipe.consumed, 8, 'the two lines, not the unfinished third');
    assert.equal(pipe.data.toString(), 'thr');
    pipe.write('ee\n');
    await waitFor('the completed line', () => log.lines.length === 3);
    assert.equal(log.lines[2], 'three');
    log.writeAll();
    pipe.hangUp();
    await waitFor('the end', () => log.ends === 1);
    assert.ok(pipe.closed);
    assert.equal(pipe.consumed, 14);
  });

  it('a reader that dies before its write lands leaves the lines in the pipe for the next one', async () => {
    const pipe = new FakePipe();
    const first = fakeLog();
    new PipeAttachment(pipe, 'stdout', first, timing).start();
    pipe.write('1\n2\n3\n');
    await waitFor('the first reader got them', () => first.lines.length === 3);
    // The first reader is gone (its writes never complete); a successor reads the same pipe.
    const second = fakeLog();
    new PipeAttachment(pipe, 'stdout', second, timing).start();
    await waitFor('the successor got them', () => second.lines.length === 3);
    assert.deepEqual(second.lines, ['1', '2', '3']);
    second.writeAll();
    assert.equal(pipe.available(), 0);
  });

  it('does not watch a pipe that holds only an unfinished line; writes it alone after the linger, or at the end', async () => {
    const pipe = new FakePipe();
    const log = fakeLog();
    new PipeAttachment(pipe, 'stderr', log, timing).start();
    pipe.write('prompt> ');
    await waitFor('the linger over', () => log.lines.length === 1, 2000, 5);
    assert.ok(pipe.peeks <= 3, `the readable pipe is looked at again on a timer, not in a loop: ${pipe.peeks} peeks`);
    assert.deepEqual(log.lines, ['prompt> ']);
    log.writeAll();
    const other = new FakePipe();
    const log2 = fakeLog();
    new PipeAttachment(other, 'stdout', log2, { ...timing, tailLingerMs: 60_000 }).start();
    other.write('last words');
    other.writers = false; // no wake: the tail timer sees the hang-up
    await waitFor('the tail at the end', () => log2.lines.length === 1, 2000, 5);
    assert.deepEqual(log2.lines, ['last words']);
  });

  it('paused, looks no more; close() hands over the rest beyond what is in flight, then drains the pipe', async () => {
    const pipe = new FakePipe();
    const log = fakeLog();
    const a = new PipeAttachment(pipe, 'stdout', log, timing);
    a.start();
    pipe.write('a\n');
    await waitFor('a', () => log.lines.length === 1);
    a.pause();
    log.writeAll();
    pipe.write('b\nc');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log.lines, ['a'], 'no look while paused');
    a.close();
    assert.deepEqual(log.lines, ['a', 'b', 'c']);
    assert.ok(!pipe.discarded, 'drained only once written');
    log.writeAll();
    assert.ok(pipe.discarded);
    assert.equal(pipe.consumed, 5);
  });
});

describe('logs: a real pipe through ServiceLog', () => {
  it('consumes the pipe only once the sink has taken the lines', async () => {
    let release: (() => void) | null = null;
    let got = '';
    const out = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, done) {
        got += chunk.toString();
        release = done;
      },
    });
    const log = new ServiceLog('svc', { logDir: '-', out });
    const [r, w] = addon.pipe();
    const input = new PipeInput(r);
    log.attach(input, 'stdout');
    fs.writeSync(w, 'hello\nworld\n');
    await waitFor('the lines at the sink', () => /world/.test(got));
    assert.equal(input.available(), 12, 'still in the pipe while the sink has not drained');
    release!();
    await waitFor('consumed', () => input.available() === 0);
    fs.closeSync(w);
    await log.close();
    assert.match(got, /^svc \| \S+Z hello\nsvc \| \S+Z world\n$/);
  });
});
