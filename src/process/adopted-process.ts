// An nsvisor-init a dead supervisor left, taken over: signals by pidfd, its end from its report on the adoption socket (it is not our child).
import * as fs from 'fs';
import * as os from 'os';

import { LaunchFailure } from '../launch/failure';
import { addon } from '../native';
import { ExitStatus, IsolatedProcess, PidfdRef, signalName, StartHooks } from './isolated-process';
import { readStatus } from './status-pipe';

/**
 * Wraps init `pid` (pinned by `pidfd`) whose status records come on `statusFd` from now on. Its end is the close of
 * that channel; how it ended is the main process's end as init reports it last (we cannot wait for a process that is
 * not our child), so the exit code is the one init exits with: the main process's code, or 128+N for signal N. With
 * no last record init itself was killed, taken as SIGKILL. After an upgrade in place init is still our child, waited for.
 */
export function adoptedProcess(name: string, pid: number, mainPid: number | null, fd: number, statusFd: number, hooks: StartHooks): IsolatedProcess {
  const pidfd = new PidfdRef(fd);
  let main: ExitStatus['main'] = null;
  const pipe = readStatus(name, statusFd, {
    onInitStarted: () => undefined,
    onReaped: (n) => hooks.onReaped?.(n),
    onMainExit: (rec) => (main = { code: rec.code, signal: signalName(rec.signal) }),
    onGarbage: (value) => {
      const failure = LaunchFailure.ofStep('adoption socket', null, `adoption socket: a record of unknown kind ${value}: the rest is not read`, false);
      hooks.onGarbage?.(failure);
      return failure;
    },
  });
  // After an upgrade in place init is still our child: it is waited for (and reaped), its own exit status known.
  const ours = parentOf(pid) === process.pid;
  const initEnded = ours
    ? new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        new addon.PidfdWatch(fd, (code, signal) => {
          pidfd.close();
          resolve({ code, signal: signalName(signal) });
        });
      })
    : null;
  const exited = Promise.all([pipe.closed, initEnded]).then(([, end]): ExitStatus => {
    pidfd.close();
    const m = main as ExitStatus['main'];
    if (end) return { ...end, main: m };
    const signo = m?.signal ? os.constants.signals[m.signal] : null;
    return { code: m ? m.code ?? (signo === null ? null : 128 + signo) : null, signal: m ? null : 'SIGKILL', main: m };
  });
  return new IsolatedProcess(pid, mainPid, pidfd, exited);
}

/** The parent pid of `pid` (field 4 of /proc/PID/stat), or null when it is gone. */
export function parentOf(pid: number): number | null {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  } catch {
    return null;
  }
}
