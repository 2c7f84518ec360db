// Builds the bench's C programs (bench/NAME.c) with cc -O2 into bench/build/, and drives floor.c as a coprocess: a count in, that many nanosecond timings out.
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';

const benchDir = path.resolve(__dirname, '..', '..', 'bench');
const buildDir = path.join(benchDir, 'build');

/** Compiles bench/NAME.c with cc -O2 into bench/build/NAME (gitignored); returns its path. */
export function buildBenchProgram(name: string): string {
  const source = path.join(benchDir, `${name}.c`);
  const out = path.join(buildDir, name);
  fs.mkdirSync(buildDir, { recursive: true });
  try {
    // TMPDIR: cc's intermediate files go (and are removed) beside the output, not in /tmp.
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', out, source], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: buildDir } });
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`building ${name} failed: cc -O2 ${source}: ${err.stderr?.toString().trim() || err.message}`);
  }
  return out;
}

/** The C floor of the spawn latency bench. */
export const buildFloor = () => buildBenchProgram('floor');

/** One running floor program for one namespace set (and, with initPath, nsvisor's own child steps and init). */
export class FloorProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterableIterator<string>;
  private stderr = '';

  constructor(binary: string, namespaces: string[], initPath?: string) {
    const args = [namespaces.join(','), ...(initPath ? [initPath] : [])];
    this.child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** Runs count spawns; their times in ms, as measured inside the C program. */
  async run(count: number): Promise<number[]> {
    this.child.stdin.write(`${count}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`the C floor ended: ${this.stderr.trim() || 'no output'}`);
    return next.value.split(' ').map((ns) => Number(ns) / 1e6);
  }

  /** Ends the program (EOF on its input) and waits for it; kills it if it does not go. */
  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin.end();
    });
  }
}
