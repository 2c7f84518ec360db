// A service's output read before it is taken: the pipe (and what nsvisor-init held of it) is peeked, written to the log, then consumed.
import { addon } from '../native';

/**
 * What a ServiceLog reads a service's pipe through. Bytes stay in the pipe until consume() takes them, so a
 * supervisor killed at any moment leaves every byte it has not written for nsvisor-init and the next supervisor.
 */
export interface PeekInput {
  /** Up to `max` bytes at the head, not taken; an empty buffer when none are there yet, null at the end. */
  peek(max: number): Buffer | null;
  /** Takes the first `n` bytes (seen by a peek). */
  consume(n: number): void;
  /** Bytes there now: tells new output from an unfinished line already seen. */
  available(): number;
  /** No writer is left: what is there is all there will be. */
  hungUp(): boolean;
  /** Calls `onReadable` once, when there is something to peek or the end has come. */
  watch(onReadable: () => void): void;
  /** Nobody reads any more: what comes is thrown away until the end, when the pipe is let go. */
  discard(): void;
  /** Lets go of the pipe now. */
  close(): void;
}

/**
 * The read end `fd` of an output pipe (or none: a stream that ended while orphaned), behind `held`, the bytes
 * nsvisor-init read from it while no supervisor did. `onHeldTaken(n)` is told as the held bytes are consumed, so
 * init can forget them (until then it keeps them for the next adopter).
 */
export class PipeInput implements PeekInput {
  private readonly pipe: InstanceType<typeof addon.OutputPipe> | null;
  private onReadable: (() => void) | null = null;
  private held: Buffer;

  constructor(
    fd: number | null,
    held: Buffer = Buffer.alloc(0),
    private readonly onHeldTaken: (n: number) => void = () => {},
  ) {
    this.held = held;
    this.pipe = fd === null ? null : new addon.OutputPipe(fd, () => this.onReadable?.());
  }

  peek(max: number): Buffer | null {
    if (this.held.length >= max) return this.held.subarray(0, max);
    const more = this.pipe ? this.pipe.peek(max - this.held.length) : null;
    if (this.held.length === 0) return more;
    return more && more.length ? Buffer.concat([this.held, more]) : this.held;
  }

  consume(n: number): void {
    const fromHeld = Math.min(n, this.held.length);
    if (fromHeld > 0) {
      this.held = this.held.subarray(fromHeld);
      this.onHeldTaken(fromHeld);
    }
    if (n > fromHeld) this.pipe?.consume(n - fromHeld);
  }

  available(): number {
    return this.held.length + (this.pipe?.available() ?? 0);
  }

  hungUp(): boolean {
    return this.pipe?.hungUp() ?? true;
  }

  watch(onReadable: () => void): void {
    this.onReadable = onReadable;
    if (this.held.length > 0 || !this.pipe) setImmediate(onReadable);
    else this.pipe.watch();
  }

  discard(): void {
    this.onReadable = null;
    this.pipe?.discard();
  }

  close(): void {
    this.onReadable = null;
    this.pipe?.close();
  }
}

/** Reads `input` to its end for whoever wants its bytes as they come and no log (tests, a supervisor embedded without logs). */
export function readInput(input: PeekInput, onData: (chunk: Buffer) => void = () => {}): Promise<void> {
  return new Promise((resolve) => {
    const look = (): void => {
      const chunk = input.peek(1 << 20);
      if (chunk === null) {
        input.close();
        return resolve();
      }
      if (chunk.length > 0) {
        input.consume(chunk.length);
        onData(chunk);
      }
      input.watch(look);
    };
    look();
  });
}
