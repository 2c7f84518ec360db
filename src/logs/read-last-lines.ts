// Reads the last lines of a log file, and of a rotated set, backwards in chunks so a large file is never read whole.
import { promises as fs } from 'fs';

const CHUNK = 64 * 1024;

/** The last `n` lines of `file`, oldest first; [] if it does not exist. */
export async function readLastLines(file: string, n: number): Promise<string[]> {
  if (n <= 0) return [];
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    let pos = (await handle.stat()).size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    // n + 1 newlines guarantee n whole lines (the file ends with one).
    while (pos > 0 && newlines <= n) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await handle.read(buf, 0, len, pos);
      chunks.unshift(buf);
      for (let i = 0; i < len; i++) if (buf[i] === 10) newlines++;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (pos > 0) lines.shift(); // started mid-line
    return lines.slice(-n);
  } finally {
    await handle.close();
  }
}

/** The last `n` lines across `files` (newest file first, as logFiles() lists them), oldest first. */
export async function readLastLinesOf(files: string[], n: number): Promise<string[]> {
  let lines: string[] = [];
  for (const file of files) {
    if (lines.length >= n) break;
    lines = (await readLastLines(file, n - lines.length)).concat(lines);
  }
  return lines;
}
