// The scale bench's PM2: installed in the scratch directory, its own PM2_HOME, an ecosystem file, `pm2 jlist` for status, `pm2 kill` to stop.
import * as fs from 'fs';
import * as path from 'path';

import { goneWith, Manager, output, ServiceDef, waitGone } from './scale-manager';
import { alive, descendantsOf } from './scale-proc';

export function pm2Manager(dir: string, pm2Cli: string): Manager {
  const home = path.join(dir, 'pm2-home');
  const env = { ...process.env, PM2_HOME: home };
  const pm2 = (...args: string[]) => output(process.execPath, [pm2Cli, ...args], env);
  const godPid = () => Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8'));
  const kill = async () => {
    const pid = godPid();
    const below = descendantsOf(pid);
    await pm2('kill');
    await waitGone('pm2', pid, below);
  };
  return {
    tool: 'pm2',
    async launch(services: ServiceDef[]) {
      fs.mkdirSync(home, { recursive: true });
      const apps = services.map((s) => ({
        name: s.name,
        script: s.command[0],
        args: s.command.slice(1),
        interpreter: 'none',
        exec_mode: 'fork',
        autorestart: s.restart,
        out_file: path.join(dir, 'logs', `${s.name}.log`),
        error_file: path.join(dir, 'logs', `${s.name}.err`),
      }));
      const file = path.join(dir, 'ecosystem.json');
      fs.writeFileSync(file, JSON.stringify({ apps }));
      await pm2('start', file);
    },
    daemonPid: godPid,
    gone: () => (fs.existsSync(path.join(home, 'pm2.pid')) ? goneWith(godPid(), path.join(home, 'pm2.log')) : 'no pm2.pid: the daemon did not start'),
    async runningCount() {
      const text = await pm2('jlist');
      try {
        return (JSON.parse(text) as { pm2_env: { status: string } }[]).filter((p) => p.pm2_env.status === 'online').length;
      } catch {
        return 0;
      }
    },
    stop: kill,
    logFile: (name) => path.join(dir, 'logs', `${name}.log`),
    async cleanup() {
      if (fs.existsSync(path.join(home, 'pm2.pid')) && alive(godPid())) await kill();
    },
  };
}
