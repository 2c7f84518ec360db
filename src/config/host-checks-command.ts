// Host checks of `command` and `cwd`: command[0] found as nsvisor-init's execvp will find it, inside the service's view, runnable.
import type { SpawnPlan } from '../spawn-plan/plan';
import { elfInterpreter, HEAD_BYTES, shebangInterpreter } from './host-checks-exec';
import type { HostFacts, HostProblem } from './host-checks-facts';
import { InsideView, Resolved, resolveInside, whereOf } from './host-checks-view';

/** Why a file cannot be run, as execve would fail: ENOENT (execvp tries the next PATH entry) or EACCES. */
interface Refusal {
  enoent: boolean;
  /** Whether the file itself was found (only what it needs is missing). */
  found: boolean;
  what: string;
  fix: string;
}

/** How deep "#!" interpreters may nest (the kernel allows a few levels). */
const MAX_INTERPRETERS = 4;

function notFound(file: string, r: Resolved & { found: false }, where: string): string {
  if (r.why === 'virtual') return `${file} is not known`;
  if (r.why === 'loop') return `${file} cannot be reached ${where}: too many levels of symbolic links at ${r.missing}`;
  if (r.why === 'notdir') return `${file} does not exist ${where}: ${r.missing} is not a directory`;
  if (r.tmpfs) return `${file} does not exist ${where}: mounts[${r.tmpfs.index}] puts an empty tmpfs on ${r.tmpfs.target}`;
  return `${file} does not exist ${where}${r.missing !== file ? ` (${r.missing} is missing)` : ''}`;
}

class Runner {
  private readonly where: string;

  constructor(private readonly view: InsideView, private readonly host: HostFacts, private readonly cwd: string) {
    this.where = whereOf(view);
  }

  /** Null when `file` can be run (or lies where nothing can be known), else why not. */
  refusal(file: string, depth = 0): Refusal | null {
    const r = resolveInside(this.view, this.host, file, this.cwd);
    if (!r.found) {
      if (r.why === 'virtual') return null;
      return { enoent: r.why !== 'loop', found: false, what: notFound(file, r, this.where), fix: 'correct the path or install the program' };
    }
    if (r.facts.kind === 'dir') return { enoent: false, found: true, what: `${file} is a directory`, fix: 'name the program itself' };
    if (r.facts.kind !== 'file') return { enoent: false, found: true, what: `${file} is not a regular file`, fix: 'name the program itself' };
    if ((r.facts.mode & 0o111) === 0) {
      const mode = r.facts.mode.toString(8).padStart(4, '0');
      return { enoent: false, found: true, what: `${file} is not executable (mode ${mode})`, fix: `chmod +x ${r.host ?? file}` };
    }
    const head = r.host === null ? null : this.host.readHead(r.host, HEAD_BYTES);
    return head && depth < MAX_INTERPRETERS ? this.needs(file, head, depth) : null;
  }

  /** What a runnable file needs in turn: its "#!" interpreter, or its dynamic loader. */
  private needs(file: string, head: Buffer, depth: number): Refusal | null {
    const interpreter = shebangInterpreter(head);
    if (interpreter !== null) {
      const inner = this.refusal(interpreter, depth + 1);
      if (inner === null) return null;
      const fix = inner.found ? inner.fix : "install it or correct the script's first line";
      return { enoent: inner.enoent, found: true, what: `${file} starts with "#!${interpreter}", and ${inner.what}`, fix };
    }
    const loader = elfInterpreter(head);
    if (!loader) return null;
    const r = resolveInside(this.view, this.host, loader, '/');
    if (r.found || r.why === 'virtual') return null;
    const fix = this.view.rootfs === null
      ? 'reinstall the program for this system, or use a statically linked build'
      : 'copy the loader and the libraries the program needs into the rootfs, or use a statically linked build';
    return { enoent: true, found: true, what: `${file} needs the dynamic loader ${loader}, which does not exist ${this.where}`, fix };
  }
}

/** PATH as the planner set it in the service's environment. */
function searchPath(plan: SpawnPlan): string {
  return plan.request.envp.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
}

/** execvp: a name with a "/" is the path; else each PATH entry in turn, EACCES remembered over ENOENT. */
function commandRefusal(runner: Runner, program: string, plan: SpawnPlan, where: string): Refusal | null {
  if (program === '') return { enoent: true, found: false, what: 'the program name is empty', fix: 'name the program to run' };
  if (program.includes('/')) return runner.refusal(program);
  const path = searchPath(plan);
  const refusals: Refusal[] = [];
  for (const dir of path.split(':')) {
    const r = runner.refusal(`${dir || '.'}/${program}`);
    if (r === null) return null;
    refusals.push(r);
  }
  const pick = refusals.find((r) => !r.enoent) ?? refusals.find((r) => r.found);
  return pick ?? {
    enoent: true,
    found: false,
    what: `"${program}" is in no directory of PATH (${path}) ${where}`,
    fix: 'give its full path, install it, or set env.PATH',
  };
}

/** Problems of command[0] and of cwd, judged in the view the service will have. */
export function commandProblems(name: string, svc: { command: string[] }, plan: SpawnPlan, view: InsideView, host: HostFacts): HostProblem[] {
  const problems: HostProblem[] = [];
  const add = (key: string, message: string) => problems.push({ service: name, path: `services.${name}.${key}`, message, permanent: true });
  const cwd = plan.request.cwd ?? '/';
  const where = whereOf(view);
  const dir = resolveInside(view, host, cwd, '/');
  if (!dir.found && dir.why !== 'virtual') add('cwd', `${notFound(cwd, dir, where)}; create it or correct cwd`);
  if (dir.found && dir.facts.kind !== 'dir') add('cwd', `${cwd} is not a directory; correct cwd`);
  const refusal = commandRefusal(new Runner(view, host, cwd), svc.command[0], plan, where);
  if (refusal) add('command[0]', `${refusal.what}; ${refusal.fix}`);
  return problems;
}
