// The most recent lines, for `logs -n` without touching the disk: kept as the written chunks, decoded only when asked for.
export class LineRing {
  private chunks: { text: Buffer; lines: number }[] = [];
  private held = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
  }

  /** Lines available to last(), at most the capacity. */
  get length(): number {
    return Math.min(this.held, this.capacity);
  }

  /** A chunk of `lines` lines, each ending with a newline; chunks no longer needed for the last `capacity` lines are let go. */
  push(text: Buffer, lines: number): void {
    this.chunks.push({ text, lines });
    this.held += lines;
    while (this.held - this.chunks[0].lines >= this.capacity) this.held -= this.chunks.shift()!.lines;
  }

  /** The last `n` lines (fewer if the ring holds fewer), oldest first, without their newlines. */
  last(n: number): string[] {
    const k = Math.max(0, Math.min(n, this.length));
    const out: string[] = [];
    for (let c = this.chunks.length - 1; c >= 0 && out.length < k; c--) {
      const lines = this.chunks[c].text.toString('utf8').split('\n');
      lines.pop(); // after the last newline
      out.unshift(...lines.slice(Math.max(0, lines.length - (k - out.length))));
    }
    return out;
  }
}
