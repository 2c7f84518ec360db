// Cuts a byte stream into text lines: keeps the unfinished tail between chunks, splits overlong lines into marked pieces.
export const MAX_LINE_BYTES = 16 * 1024;

/** Appended to every piece of an overlong line but the last: the line goes on in the next entry (as Docker's partial messages). */
export const CUT_MARK = ' [cut]';

export class LineSplitter {
  private parts: Buffer[] = [];
  private length = 0;
  /** Pieces emitted with CUT_MARK so far. */
  cutPieces = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** The complete lines in `chunk` (without their newline), plus pieces of lines that grew past the limit. */
  push(chunk: Buffer | string): string[] {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const lines: string[] = [];
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) {
        this.take(buf.subarray(start), lines);
        break;
      }
      if (this.length === 0 && nl - start <= this.maxLineBytes) {
        lines.push(decodeLine(buf, start, nl)); // the common case: a whole line inside one chunk, no copy
      } else {
        this.take(buf.subarray(start, nl), lines);
        lines.push(this.takeLine());
      }
      start = nl + 1;
    }
    // Keep a copy of the unfinished line, not a view that would pin the whole chunk.
    if (this.length > 0) this.parts = [Buffer.concat(this.parts, this.length)];
    return lines;
  }

  /** The unfinished last line, if any, when the stream has ended. */
  end(): string | null {
    return this.length > 0 ? this.takeLine() : null;
  }

  private take(part: Buffer, lines: string[]): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.length += part.length;
    while (this.length > this.maxLineBytes) {
      const all = Buffer.concat(this.parts, this.length);
      const cut = charBoundary(all, this.maxLineBytes);
      lines.push(all.toString('utf8', 0, cut) + CUT_MARK);
      this.cutPieces++;
      const rest = all.subarray(cut);
      this.parts = [rest];
      this.length = rest.length;
    }
  }

  private takeLine(): string {
    const all = Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return decodeLine(all, 0, all.length);
  }
}

/** The text of buf[start, end) without a trailing carriage return. */
function decodeLine(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, end > start && buf[end - 1] === 13 ? end - 1 : end);
}

/** The largest offset <= `at` that does not fall inside a UTF-8 sequence. */
function charBoundary(buf: Buffer, at: number): number {
  let cut = at;
  while (cut > at - 3 && cut > 0 && (buf[cut] & 0xc0) === 0x80) cut--;
  return cut > 0 ? cut : at;
}
