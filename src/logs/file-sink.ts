// Appends lines to DIR/NAME.log (0600, DIR created 0700) and rotates it at a size: NAME.log.1 (newest) … NAME.log.KEEP.
import { promises as fs } from 'fs';
import * as path from 'path';

import { faultPoint } from '../fault/seam';
import { LogSink } from './sink';

export const ROTATE_BYTES = 10 * 1024 * 1024;
export const KEEP_FILES = 5;

/** The live file first, then the rotated ones from newest to oldest. */
export function logFiles(dir: string, name: string, keep = KEEP_FILES): string[] {
  const live = path.join(dir, `${name}.log`);
  return [live, ...Array.from({ length: keep }, (_, i) => `${live}.${i + 1}`)];
}

export class FileSink implements LogSink {
  private file: fs.FileHandle | null = null;
  private size = 0;
  private readonly files: string[];

  constructor(
    private readonly dir: string,
    name: string,
    private readonly rotateBytes = ROTATE_BYTES,
    keep = KEEP_FILES,
  ) {
    this.files = logFiles(dir, name, keep);
  }

  /** Rotates only between lines, so no file grows past rotateBytes unless one line alone is larger. */
  async write(chunks: Buffer[]): Promise<void> {
    if (!this.file) await this.open(); // the size of a file left by an earlier run counts
    let parts: Buffer[] = [];
    let pending = 0;
    const flush = async () => {
      if (pending > 0) await this.append(parts.length === 1 ? parts[0] : Buffer.concat(parts, pending));
      parts = [];
      pending = 0;
    };
    for (const chunk of chunks) {
      let start = 0;
      while (start < chunk.length) {
        const room = this.rotateBytes - this.size - pending;
        if (chunk.length - start <= room) {
          parts.push(start === 0 ? chunk : chunk.subarray(start));
          pending += chunk.length - start;
          break;
        }
        // The lines that fit, or in an empty file the first line whatever its size; then a new file.
        let end = room > 0 ? chunk.lastIndexOf(10, start + room - 1) + 1 : 0;
        if (end <= start && this.size + pending === 0) end = chunk.indexOf(10, start) + 1;
        if (end > start) {
          parts.push(chunk.subarray(start, end));
          pending += end - start;
          start = end;
        }
        await flush();
        await this.rotate();
      }
    }
    await flush();
  }

  private async append(data: Buffer): Promise<void> {
    const file = this.file ?? (await this.open());
    faultPoint('log-write', this.files[0]);
    await file.appendFile(data); // loops over short writes
    this.size += data.length;
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.close();
  }

  private async open(): Promise<fs.FileHandle> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = await fs.open(this.files[0], 'a', 0o600);
    try {
      await file.chmod(0o600); // a file left by an earlier run may have other modes
      this.size = (await file.stat()).size;
    } catch (err) {
      await file.close();
      throw err;
    }
    this.file = file;
    return file;
  }

  /** NAME.log.(k) → NAME.log.(k+1) from the oldest down, which drops the oldest; then NAME.log → NAME.log.1. */
  private async rotate(): Promise<void> {
    await this.close();
    for (let k = this.files.length - 1; k >= 1; k--) {
      await fs.rename(this.files[k - 1], this.files[k]).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    this.size = 0;
  }
}
