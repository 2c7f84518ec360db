// The scale bench's supervisord: Debian's supervisor run from the scratch directory with the system python3, supervisorctl for status.
import * as fs from 'fs';
import * as path from 'path';

import { daemon, goneWith, Manager, output, ServiceDef, shellWord, signalStop } from './scale-manager';
import { alive } from './scale-proc';

function configText(dir: string, services: ServiceDef[]): string {
  const sock = path.join(dir, 'supervisor.sock');
  const head = [
    '[unix_http_server]', `file=${sock}`,
    '[supervisord]', 'nodaemon=true', `logfile=${path.join(dir, 'supervisord.log')}`, `pidfile=${path.join(dir, 'supervisord.pid')}`,
    `childlogdir=${path.join(dir, 'logs')}`, 'minfds=16384', 'minprocs=8192',
    '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '[supervisorctl]', `serverurl=unix://${sock}`,
  ];
  // startsecs=0: running as soon as spawned, as nsvisor and PM2 count it (the default waits 1 s).
  const programs = services.flatMap((s) => [
    `[program:${s.name}]`, `command=${s.command.map(shellWord).join(' ')}`, 'startsecs=0', `autorestart=${s.restart}`,
    'redirect_stderr=true', `stdout_logfile=${path.join(dir, 'logs', `${s.name}.log`)}`, 'stdout_logfile_maxbytes=0',
  ]);
  return [...head, ...programs, ''].join('\n');
}

export function supervisordManager(dir: string, pythonPath: string): Manager {
  const conf = path.join(dir, 'supervisord.conf');
  const env = { ...process.env, PYTHONPATH: pythonPath };
  let d: ReturnType<typeof daemon> | null = null;
  return {
    tool: 'supervisord',
    async launch(services: ServiceDef[]) {
      fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
      fs.writeFileSync(conf, configText(dir, services));
      d = daemon('python3', ['-m', 'supervisor.supervisord', '-n', '-c', conf], path.join(dir, 'supervisord.out'), env);
    },
    daemonPid: () => d!.child.pid!,
    gone: () => goneWith(d!.child.pid!, path.join(dir, 'supervisord.out')),
    async runningCount() {
      const text = await output('python3', ['-m', 'supervisor.supervisorctl', '-c', conf, 'status'], env);
      return text.split('\n').filter((l) => /^\S+\s+RUNNING\s/.test(l)).length;
    },
    stop: () => signalStop('supervisord', d!.child, d!.exited),
    logFile: (name) => path.join(dir, 'logs', `${name}.log`),
    async cleanup() {
      if (d && alive(d.child.pid!)) await signalStop('supervisord', d.child, d.exited);
    },
  };
}
