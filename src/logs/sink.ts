// The contract between a ServiceLog and where its lines end up (rotated files, or the supervisor's stdout).
export interface LogSink {
  /** Writes one batch of formatted chunks, each of whole lines that end with a newline. */
  write(chunks: Buffer[]): Promise<void>;
  /** Flushes and releases what the sink holds; write() is not called afterwards. */
  close(): Promise<void>;
}
