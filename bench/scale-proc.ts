// What the scale bench reads of a supervisor process from /proc: CPU seconds, RSS and PSS, context switches, its descendants.
import * as fs from 'fs';

/** The unit of utime and stime in /proc/PID/stat. */
const USER_HZ = 100;

/** The fields of /proc/PID/stat after "pid (comm) ", the state being the first. */
function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User plus system CPU seconds of the process, all its threads. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / USER_HZ;
}

/** Resident and proportional set size in bytes (smaps_rollup). */
export function memoryOf(pid: number): { rss: number; pss: number } {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`/proc/${pid}/smaps_rollup: no ${key} line`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('Rss'), pss: kb('Pss') };
}

/** Context switches of every thread of the process so far (/proc/PID/task/TID/sched nr_switches): each one a wakeup or a preemption. */
export function switchesOf(pid: number): number {
  let sum = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const m = /^nr_switches\s*:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8'));
      if (m) sum += Number(m[1]);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return sum;
}

/** Every process below `pid` now (by parent pid), to wait until they are all gone after a stop. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(statFields(Number(entry))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Whether a process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return statFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` until it holds, every `everyMs`; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
