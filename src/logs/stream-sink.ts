// Writes lines as "NAME | line" to a shared writable (logDir "-": the supervisor's stdout), waiting for 'drain' when it is full.
import { LogSink } from './sink';

export class StreamSink implements LogSink {
  private readonly prefix: string;

  constructor(
    name: string,
    private readonly out: NodeJS.WritableStream,
  ) {
    this.prefix = `${name} | `;
  }

  async write(chunks: Buffer[]): Promise<void> {
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    lines.pop(); // after the last newline
    const text = lines.map((line) => this.prefix + line + '\n').join('');
    if (!this.out.write(text)) await drained(this.out);
  }

  async close(): Promise<void> {
    // The writable is shared with other services and outlives this one: nothing to close.
  }
}

/** Resolves on 'drain', or when the stream closes or fails (its lines are then lost, but nobody waits forever). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.removeListener('drain', done);
      out.removeListener('close', done);
      out.removeListener('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}
