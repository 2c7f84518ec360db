// The contract between a ServiceLog and where its lines end up (rotated files, or the supervisor's stdout).
export interface LogSink {
  /** Writes one batch of formatted lines (no newlines); `bytes[i]` is the UTF-8 size of lines[i] plus its newline. */
  write(lines: string[], bytes: number[]): Promise<void>;
  /** Flushes and releases what the sink holds; write() is not called afterwards. */
  close(): Promise<void>;
}
