// One service's log pipeline: its stdout/stderr pipes → timestamped lines → rotated files or the supervisor's stdout.
//
// A service's pipe (a PeekInput) is read without being consumed: its lines are taken from it only once they are
// written (pipe-attachment.ts), so a supervisor killed at any moment loses none. A plain stream (tests, a
// supervisor embedded in another program) is read as streams are, and what is queued is lost with the process.
//
// The event loop is never blocked: lines are queued and written in batches by one asynchronous writer (each
// batch is what arrived while the previous one was being written). The queue is bounded (maxBufferBytes, 1 MiB
// by default). When it is full the service's pipes are paused: Node stops reading them, the kernel pipe buffer
// fills, and the service blocks in write(2) until the writer has caught up to half the bound, when the pipes
// are resumed. We chose backpressure over dropping lines: a service that logs faster than the disk can take is
// slowed down, nothing is lost, memory stays bounded (the bound plus one read chunk per pipe), and the
// supervisor itself never waits. Pipes still attached at close() are resumed without a reader, so a service that
// outlives its log is not blocked forever; what it writes afterwards is discarded.
import { FileSink, KEEP_FILES, logFiles, ROTATE_BYTES } from './file-sink';
import { formatSpans, linePrefix, LogSource } from './line-format';
import { LineRing } from './line-ring';
import { LineSplitter, MAX_LINE_BYTES, spanText, Spans } from './line-splitter';
import type { PeekInput } from './peek-input';
import { PipeAttachment, PipeLog } from './pipe-attachment';
import { readLastLinesOf } from './read-last-lines';
import { LogSink } from './sink';
import { StreamSink } from './stream-sink';

export interface ServiceLogOptions {
  /** supervisor.logDir: a directory, or "-" for `out` with each line prefixed "NAME | ". */
  logDir: string;
  /** Where lines go when logDir is "-" (the supervisor's stdout). */
  out?: NodeJS.WritableStream;
  /** Size at which NAME.log is rotated; default 10 MiB. */
  rotateBytes?: number;
  /** Rotated files kept (NAME.log.1 … NAME.log.KEEP); default 5. */
  keepFiles?: number;
  /** Bytes queued for writing before the pipes are paused; default 1 MiB. */
  maxBufferBytes?: number;
  /** Recent lines kept in memory for tail(); default 1000. */
  ringLines?: number;
  /** Longer lines are cut into pieces of this size; default 16 KiB. */
  maxLineBytes?: number;
  /** The clock for timestamps (tests). */
  now?: () => Date;
  /**
   * Told about the first write failure of a run of them (and about a follower that throws); the failed batches are
   * counted in droppedLines and the log goes on.
   */
  onError?: (err: Error) => void;
  /** Told when a write works again after failures, with the lines lost meanwhile. */
  onRecovered?: (lostLines: number) => void;
}

export interface LogStats {
  /** Lines and bytes (with newlines and prefixes as written) handed to the file or stream. */
  lines: number;
  bytes: number;
  /** Pieces of overlong lines that were cut (marked with CUT_MARK). */
  cutPieces: number;
  /** Lines lost to write errors. */
  droppedLines: number;
  /** Bytes queued or being written right now. */
  bufferedBytes: number;
  /** Whether the pipes are paused because the queue is full. */
  paused: boolean;
}

export type LineListener = (line: string) => void;

/** What one look at a pipe takes at most (each look is written before the next). */
const PEEK_BYTES = 256 * 1024;

function isPeekInput(input: NodeJS.ReadableStream | PeekInput): input is PeekInput {
  return typeof (input as PeekInput).peek === 'function';
}

interface Attachment {
  stream: NodeJS.ReadableStream;
  source: LogSource;
  splitter: LineSplitter;
  onData: (chunk: Buffer | string) => void;
  onEnd: () => void;
}

export class ServiceLog {
  private readonly sink: LogSink;
  private readonly files: string[] | null;
  private readonly ring: LineRing;
  private readonly maxBufferBytes: number;
  private readonly maxLineBytes: number;
  private readonly now: () => Date;
  private readonly onError: (err: Error) => void;
  private readonly onRecovered: (lostLines: number) => void;
  /** Lines lost since writes began to fail; null while they work. */
  private lostSinceFailure: number | null = null;
  private readonly attached = new Set<Attachment>();
  private readonly pipes = new Set<PipeAttachment>();
  private readonly pipeLog: PipeLog = {
    deliver: (spans, cut, source, written) => {
      this.counts.cutPieces += cut;
      this.accept(spans, source, written);
    },
    ended: (a) => void this.pipes.delete(a),
  };
  /** Called once the batch being queued is written: the pipes take its lines then. */
  private written: (() => void)[] = [];
  private readonly listeners = new Set<LineListener>();
  /** Formatted chunks waiting for the writer, and how many lines they hold. */
  private queue: Buffer[] = [];
  private queuedLines = 0;
  private buffered = 0;
  /** The line prefixes of the last millisecond seen: the clock is formatted once per millisecond, not per line. */
  private prefixes = { ms: NaN, stdout: { text: '', bytes: Buffer.alloc(0) }, stderr: { text: '', bytes: Buffer.alloc(0) } };
  private writer: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private paused = false;
  private closed = false;
  private counts = { lines: 0, bytes: 0, cutPieces: 0, droppedLines: 0 };

  constructor(
    readonly name: string,
    options: ServiceLogOptions,
  ) {
    if (options.logDir === '-') {
      if (!options.out) throw new Error(`${name}: logDir "-" needs an output stream`);
      this.sink = new StreamSink(name, options.out);
      this.files = null;
    } else {
      this.sink = new FileSink(options.logDir, name, options.rotateBytes ?? ROTATE_BYTES, options.keepFiles ?? KEEP_FILES);
      this.files = logFiles(options.logDir, name, options.keepFiles ?? KEEP_FILES);
    }
    this.ring = new LineRing(options.ringLines ?? 1000);
    this.maxBufferBytes = options.maxBufferBytes ?? 1024 * 1024;
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? (() => {});
    this.onRecovered = options.onRecovered ?? (() => {});
  }

  /** Reads one pipe of a service instance until it ends; call again for each fd of each restarted instance. */
  attach(input: NodeJS.ReadableStream | PeekInput, source: LogSource): void {
    if (this.closed) throw new Error(`${this.name}: log is closed`);
    if (isPeekInput(input)) return this.attachPipe(input, source);
    const stream = input;
    const splitter = new LineSplitter(this.maxLineBytes);
    const a: Attachment = {
      stream,
      source,
      splitter,
      onData: (chunk) => {
        const cutBefore = splitter.cutPieces;
        const spans = splitter.scan(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        this.counts.cutPieces += splitter.cutPieces - cutBefore;
        this.accept(spans, source);
      },
      onEnd: () => this.detach(a),
    };
    this.attached.add(a);
    stream.on('data', a.onData);
    stream.on('end', a.onEnd);
    stream.on('close', a.onEnd);
    stream.on('error', a.onEnd); // a broken pipe ends that instance's output, not the supervisor; stays on after detach
    if (this.paused) stream.pause();
  }

  private attachPipe(input: PeekInput, source: LogSource): void {
    const peekBytes = Math.max(this.maxLineBytes + 1, Math.min(PEEK_BYTES, this.maxBufferBytes));
    const a = new PipeAttachment(input, source, this.pipeLog, { peekBytes, maxLineBytes: this.maxLineBytes });
    this.pipes.add(a);
    if (this.paused) a.pause();
    a.start();
  }

  /** The last `n` lines, oldest first: from memory, then from the files on disk when memory holds fewer. */
  async tail(n: number): Promise<string[]> {
    if (n <= this.ring.length || !this.files) return this.ring.last(n);
    const files = this.files;
    return this.serialized(async () => {
      await this.flushAll();
      const recent = this.ring.last(n);
      const need = n - recent.length;
      if (need <= 0) return recent;
      // The files end with the ring's lines, except those queued since the flush; no write runs while we read.
      const inFiles = Math.max(0, recent.length - this.queuedLines);
      const fromFiles = await readLastLinesOf(files, need + inFiles);
      return fromFiles.slice(0, Math.max(0, fromFiles.length - inFiles)).slice(-need).concat(recent);
    });
  }

  /** Calls `onLine` with each new line as it arrives; returns the function that stops it. */
  follow(onLine: LineListener): () => void {
    this.listeners.add(onLine);
    return () => {
      this.listeners.delete(onLine);
    };
  }

  /** Resolves when every line received so far has been written. */
  flush(): Promise<void> {
    return this.serialized(() => this.flushAll());
  }

  stats(): LogStats {
    return { ...this.counts, bufferedBytes: this.buffered, paused: this.paused };
  }

  /** Takes the unfinished lines of the pipes still attached, writes everything queued, closes the file. */
  async close(): Promise<void> {
    if (this.closed) return this.writer;
    for (const a of [...this.attached]) {
      this.detach(a);
      a.stream.resume();
    }
    for (const a of this.pipes) a.close(); // each drains and lets go of its pipe once its last lines are written
    this.pipes.clear();
    this.closed = true;
    this.listeners.clear();
    await this.serialized(async () => {
      await this.flushAll();
      await this.sink.close();
    });
  }

  private detach(a: Attachment): void {
    if (!this.attached.delete(a)) return;
    a.stream.removeListener('data', a.onData);
    a.stream.removeListener('end', a.onEnd);
    a.stream.removeListener('close', a.onEnd);
    const rest = a.splitter.scanEnd();
    if (rest !== null) this.accept(rest, a.source);
  }

  private prefix(source: LogSource): { text: string; bytes: Buffer } {
    const now = this.now();
    const p = this.prefixes;
    if (now.getTime() !== p.ms) {
      const timestamp = now.toISOString();
      p.ms = now.getTime();
      p.stdout = { text: linePrefix(timestamp, 'stdout'), bytes: Buffer.from(linePrefix(timestamp, 'stdout')) };
      p.stderr = { text: linePrefix(timestamp, 'stderr'), bytes: Buffer.from(linePrefix(timestamp, 'stderr')) };
    }
    return p[source];
  }

  /** The lines of one chunk, all with the time it arrived: formatted into one buffer for the writer and the ring. */
  private accept(spans: Spans, source: LogSource, written?: () => void): void {
    const n = spans.at.length / 3;
    if (this.closed || n === 0) return written?.();
    if (written) this.written.push(written);
    const prefix = this.prefix(source); // one read of the clock per chunk
    const text = formatSpans(prefix.bytes, spans);
    this.queue.push(text);
    this.queuedLines += n;
    this.buffered += text.length;
    this.ring.push(text, n);
    if (this.listeners.size > 0) {
      for (let i = 0; i < n; i++) {
        const line = prefix.text + spanText(spans, i);
        for (const listener of this.listeners) this.tell(listener, line);
      }
    }
    if (this.buffered >= this.maxBufferBytes) this.pause();
    if (!this.flushQueued) {
      this.flushQueued = true;
      void this.serialized(() => this.flushAll());
    }
  }

  /** A follower that throws (say, a client gone away) must not break the log: its error goes to onError. */
  private tell(listener: LineListener, line: string): void {
    try {
      listener(line);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Runs `task` after every write queued before it, so tail() and close() see the files in a settled state. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writer.then(task);
    this.writer = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async flushAll(): Promise<void> {
    this.flushQueued = false;
    while (this.queue.length > 0) {
      const chunks = this.queue;
      const lines = this.queuedLines;
      const written = this.written;
      this.queue = [];
      this.queuedLines = 0;
      this.written = [];
      const total = chunks.reduce((s, c) => s + c.length, 0);
      try {
        await this.sink.write(chunks);
        this.counts.lines += lines;
        this.counts.bytes += total + (this.files ? 0 : lines * (this.name.length + 3));
        if (this.lostSinceFailure !== null) this.onRecovered(this.lostSinceFailure);
        this.lostSinceFailure = null;
      } catch (err) {
        this.counts.droppedLines += lines;
        if (this.lostSinceFailure === null) this.onError(err as Error);
        this.lostSinceFailure = (this.lostSinceFailure ?? 0) + lines;
      }
      this.buffered -= total;
      for (const done of written) done();
      if (this.paused && this.buffered <= this.maxBufferBytes / 2) this.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const a of this.attached) a.stream.pause();
    for (const a of this.pipes) a.pause();
  }

  private resume(): void {
    this.paused = false;
    for (const a of this.attached) a.stream.resume();
    for (const a of this.pipes) a.resume();
  }
}
