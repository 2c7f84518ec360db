// A fixed-size ring of the most recent lines, for `logs -n` without touching the disk.
export class LineRing {
  private readonly slots: string[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<string>(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(line: string): void {
    this.slots[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The last `n` lines (fewer if the ring holds fewer), oldest first. */
  last(n: number): string[] {
    const k = Math.max(0, Math.min(n, this.count));
    const out = new Array<string>(k);
    const first = (this.next - k + this.capacity) % this.capacity;
    for (let i = 0; i < k; i++) out[i] = this.slots[(first + i) % this.capacity];
    return out;
  }
}
