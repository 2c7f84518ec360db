// When the supervisor is PID 1 (a container's entrypoint), orphans are reparented to it: reap the zombies among them.
import * as fs from 'fs';

import { addon } from '../native';
import { isOwned } from './owned-pids';

function zombieChildren(): number[] {
  let list = '';
  try {
    for (const tid of fs.readdirSync('/proc/self/task')) list += ` ${fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8')}`;
  } catch {
    return [];
  }
  return list
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return / Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/s, ''));
      } catch {
        return false;
      }
    });
}

/**
 * Reaps exited children that nobody waits for, one pid at a time (never waitpid(-1): libuv and the pidfd
 * watches wait for their own). Returns a function that stops it, and counts what it reaped.
 */
export function startOrphanReaper(onReaped: (pid: number) => void = () => undefined): () => void {
  const reap = () => {
    for (const pid of zombieChildren()) if (!isOwned(pid) && addon.reap(pid)) onReaped(pid);
  };
  process.on('SIGCHLD', reap);
  const timer = setInterval(reap, 2000).unref(); // a SIGCHLD can be merged with another: look again now and then
  return () => {
    process.off('SIGCHLD', reap);
    clearInterval(timer);
  };
}
