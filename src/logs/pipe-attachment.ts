// One peeked pipe of a ServiceLog: look at the head, hand its whole lines to the log, take them from the pipe once written, look again.
import { LogSource } from './line-format';
import { headLines, Spans } from './line-splitter';
import type { PeekInput } from './peek-input';

/** How often a pipe that holds only an unfinished line is looked at again (it stays readable, so it is not polled). */
export const TAIL_RETRY_MS = 25;
/** How long an unfinished line waits for the rest before it is written as a line of its own. */
export const TAIL_LINGER_MS = 1000;

export interface PipeLog {
  /** Queues the lines; `written` is called once the write holding them is over (done or failed). */
  deliver(spans: Spans, cut: number, source: LogSource, written: () => void): void;
  /** The input ended or failed: the attachment is over. */
  ended(a: PipeAttachment, err?: Error): void;
}

export interface PipeTiming {
  peekBytes: number;
  maxLineBytes: number;
  tailRetryMs?: number;
  tailLingerMs?: number;
}

/**
 * Stop and wait: one look at a time, the next only after the lines of the last are written and taken. Nothing
 * is consumed before it is in the log; the unfinished last line stays in the pipe. A supervisor that dies between a
 * write and the consume that follows it leaves that look's lines for the next one, which writes them again.
 */
export class PipeAttachment {
  /** Bytes handed to the log and not yet taken from the pipe. */
  private inFlight = 0;
  private paused = false;
  /** A look was due while paused. */
  private due = false;
  private closed = false;
  /** The pipe is let go of, or drained to its end. */
  private finished = false;
  private timer: NodeJS.Timeout | null = null;
  /** When the unfinished line at the head was first seen alone, and its length then. */
  private tail: { since: number; bytes: number } | null = null;

  constructor(
    private readonly input: PeekInput,
    readonly source: LogSource,
    private readonly log: PipeLog,
    private readonly timing: PipeTiming,
  ) {}

  start(): void {
    this.look();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.due && this.inFlight === 0) this.look();
  }

  /**
   * No more looks: what the pipe holds beyond the lines in flight is handed over now, the unfinished line too;
   * once all of it is written the pipe is drained and thrown away until its end.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.guard(() => {
      const buf = this.input.peek(this.timing.peekBytes + this.inFlight);
      const rest = buf ? buf.subarray(this.inFlight) : Buffer.alloc(0);
      if (rest.length === 0) return this.settle();
      const lines = headLines(rest, this.timing.maxLineBytes, true);
      this.inFlight += lines.through;
      this.log.deliver(lines.spans, lines.cut, this.source, () => this.written(lines.through));
    });
  }

  private look(): void {
    this.due = false;
    if (this.closed) return;
    if (this.paused) return void (this.due = true);
    this.guard(() => {
      const buf = this.input.peek(this.timing.peekBytes);
      if (buf === null) return this.end();
      if (buf.length === 0) return this.input.watch(() => this.look());
      let lines = headLines(buf, this.timing.maxLineBytes, false);
      if (lines.through === 0) {
        const lingered = this.tail !== null && Date.now() - this.tail.since >= (this.timing.tailLingerMs ?? TAIL_LINGER_MS);
        if (!lingered && !this.input.hungUp()) return this.waitForTail(buf.length);
        lines = headLines(buf, this.timing.maxLineBytes, true);
      }
      this.tail = null;
      this.inFlight += lines.through;
      this.log.deliver(lines.spans, lines.cut, this.source, () => this.written(lines.through));
    });
  }

  /** The lines of `bytes` are written: they are taken from the pipe; with none left in flight, the next look (or, closed, the drain). */
  private written(bytes: number): void {
    this.guard(() => {
      this.inFlight -= bytes;
      this.input.consume(bytes);
      this.settle();
    });
  }

  private settle(): void {
    if (this.inFlight > 0 || this.finished) return;
    if (!this.closed) return this.look();
    this.finished = true;
    this.input.discard();
  }

  /** Only an unfinished line is there: look again when more has come, the writers are gone, or it has waited long enough. */
  private waitForTail(bytes: number): void {
    // The wait counts from when the line was first seen unfinished, however it grows meanwhile.
    this.tail = { since: this.tail?.since ?? Date.now(), bytes };
    const check = (): void => {
      this.timer = null;
      this.guard(() => {
        const lingered = Date.now() - this.tail!.since >= (this.timing.tailLingerMs ?? TAIL_LINGER_MS);
        if (lingered || this.input.available() > bytes || this.input.hungUp()) this.look();
        else this.timer = setTimeout(check, this.timing.tailRetryMs ?? TAIL_RETRY_MS);
      });
    };
    this.timer = setTimeout(check, this.timing.tailRetryMs ?? TAIL_RETRY_MS);
  }

  private end(err?: Error): void {
    if (this.finished) return;
    this.finished = this.closed = true;
    this.clearTimer();
    this.input.close();
    this.log.ended(this, err);
  }

  /** A pipe that fails (EIO, a bad fd) ends that instance's output, not the supervisor. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.end(err as Error);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
