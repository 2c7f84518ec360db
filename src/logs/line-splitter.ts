// Cuts a byte stream into lines as spans of a buffer: keeps the unfinished tail between chunks, splits overlong lines into marked pieces.
export const MAX_LINE_BYTES = 16 * 1024;

/** Appended to every piece of an overlong line but the last: the line goes on in the next entry (as Docker's partial messages). */
export const CUT_MARK = ' [cut]';

/** The lines found in one chunk: `at` holds a [start, end, cut] triple per line (end without newline or carriage return; cut 1 for a piece). */
export interface Spans {
  buf: Buffer;
  at: number[];
}

/** The text of line `i` of `s`, with CUT_MARK when it is a piece of a longer line. */
export function spanText(s: Spans, i: number): string {
  const text = s.buf.toString('utf8', s.at[3 * i], s.at[3 * i + 1]);
  return s.at[3 * i + 2] ? text + CUT_MARK : text;
}

export class LineSplitter {
  /** The unfinished last line so far (never longer than maxLineBytes). */
  private rest: Buffer | null = null;
  /** Pieces emitted with CUT_MARK so far. */
  cutPieces = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** The complete lines in `chunk`, plus pieces of lines that grew past the limit, as spans; no line is copied. */
  scan(chunk: Buffer): Spans {
    // A line begun in the previous chunk goes on in this one: one buffer holds both (a copy of the chunk, cheaper than a copy per line).
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const { at, through, cut } = lineSpans(buf, this.maxLineBytes);
    this.cutPieces += cut;
    // Keep a copy of the unfinished line, not a view that would pin the whole chunk.
    if (through < buf.length) this.rest = Buffer.from(buf.subarray(through));
    return { buf, at };
  }

  /** The unfinished last line, if any, when the stream has ended. */
  scanEnd(): Spans | null {
    const buf = this.rest;
    this.rest = null;
    if (!buf) return null;
    return { buf, at: [0, buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length, 0] };
  }

  /** scan() as strings. */
  push(chunk: Buffer | string): string[] {
    const s = this.scan(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Array.from({ length: s.at.length / 3 }, (_, i) => spanText(s, i));
  }

  /** scanEnd() as a string. */
  end(): string | null {
    const s = this.scanEnd();
    return s ? spanText(s, 0) : null;
  }
}

/**
 * The lines of `buf` as [start, end, cut] triples: each complete line, and pieces of maxLineBytes of a line longer
 * than that (cut 1). `through` is the offset after the last of them, where the unfinished tail begins; `cut` counts the pieces.
 */
export function lineSpans(buf: Buffer, maxLineBytes: number): { at: number[]; through: number; cut: number } {
  const at: number[] = [];
  let start = 0;
  let cut = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    const end = nl === -1 ? buf.length : nl;
    while (end - start > maxLineBytes) {
      const piece = charBoundary(buf, start, start + maxLineBytes);
      at.push(start, piece, 1);
      cut++;
      start = piece;
    }
    if (nl === -1) break;
    at.push(start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl, 0);
    start = nl + 1;
  }
  return { at, through: start, cut };
}

/**
 * The lines at the head of a stream that is read before it is taken (a service's pipe, peeked): those lineSpans
 * finds, and with `all` the unfinished tail as a line of its own too. `through` is how many bytes they cover,
 * what the reader may take once they are written.
 */
export function headLines(buf: Buffer, maxLineBytes: number, all: boolean): { spans: Spans; through: number; cut: number } {
  const { at, through, cut } = lineSpans(buf, maxLineBytes);
  if (!all || through === buf.length) return { spans: { buf, at }, through, cut };
  const end = buf[buf.length - 1] === 13 ? buf.length - 1 : buf.length;
  at.push(through, end, 0);
  return { spans: { buf, at }, through: buf.length, cut };
}

/** The largest offset in (min, at] that does not fall inside a UTF-8 sequence; `at` when there is none. */
function charBoundary(buf: Buffer, min: number, at: number): number {
  let cut = at;
  while (cut > at - 3 && cut > min && (buf[cut] & 0xc0) === 0x80) cut--;
  return cut > min ? cut : at;
}
