// How one line of a service's output is written: ISO-8601 UTC timestamp, "[stderr]" for stderr, the text; and a chunk's lines at once.
import { CUT_MARK, Spans } from './line-splitter';

export type LogSource = 'stdout' | 'stderr';

/** What goes before the text: `2026-11-29T03:04:05.678Z `, or `2026-11-29T03:04:05.678Z [stderr] `. */
export function linePrefix(timestamp: string, source: LogSource): string {
  return source === 'stderr' ? `${timestamp} [stderr] ` : `${timestamp} `;
}

/** `2026-11-29T03:04:05.678Z text`, or `2026-11-29T03:04:05.678Z [stderr] text`. */
export function formatLine(timestamp: string, source: LogSource, text: string): string {
  return linePrefix(timestamp, source) + text;
}

const CUT = Buffer.from(CUT_MARK);

/** Copies buf[start, end) to out at pos; a loop for short runs, which are most lines and cost less than a call into C++. */
function put(out: Buffer, pos: number, buf: Buffer, start: number, end: number): number {
  if (end - start > 64) return pos + buf.copy(out, pos, start, end);
  for (let k = start; k < end; k++) out[pos++] = buf[k];
  return pos;
}

/** Every line of `s` with `prefix` before it, CUT_MARK after a piece, a newline after each: one buffer, ready to write. */
export function formatSpans(prefix: Buffer, s: Spans): Buffer {
  const { buf, at } = s;
  let size = 0;
  for (let i = 0; i < at.length; i += 3) size += prefix.length + at[i + 1] - at[i] + (at[i + 2] ? CUT.length : 0) + 1;
  const out = Buffer.allocUnsafeSlow(size); // its own memory: the ring may keep it long, and a slice of the shared pool would pin 8 KiB
  let pos = 0;
  for (let i = 0; i < at.length; i += 3) {
    pos = put(out, pos, prefix, 0, prefix.length);
    pos = put(out, pos, buf, at[i], at[i + 1]);
    if (at[i + 2]) pos = put(out, pos, CUT, 0, CUT.length);
    out[pos++] = 10;
  }
  return out;
}
