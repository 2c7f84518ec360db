// The scale bench's nsvisor: a generated YAML under a cgroup root of the bench's own, `nsvisor run`, `nsvisor status --json`.
import * as fs from 'fs';
import * as path from 'path';
import { stringify } from 'yaml';

import { openCgroups } from '../src/cgroup';
import { daemon, goneWith, Manager, output, ServiceDef, signalStop } from './scale-manager';
import { alive } from './scale-proc';

/** BENCH_NSVISOR: another build's bin/nsvisor, to measure before and after a change. */
const NSVISOR = process.env.BENCH_NSVISOR ?? path.resolve(__dirname, '..', '..', 'bin', 'nsvisor');

/** `root`: the cgroup root (a /nsvisor-test-* directory of the bench's), removed by cleanup(). */
export function nsvisorManager(dir: string, root: string): Manager {
  const socket = path.join(dir, 'control.sock');
  const logDir = path.join(dir, 'logs');
  let d: ReturnType<typeof daemon> | null = null;
  return {
    tool: 'nsvisor',
    async launch(services: ServiceDef[]) {
      const config = {
        supervisor: { control: socket, logDir, metrics: 'off', cgroupRoot: root },
        services: Object.fromEntries(services.map((s) => [s.name, { command: s.command, restart: { policy: s.restart ? 'always' : 'never' } }])),
      };
      const file = path.join(dir, 'nsvisor.yaml');
      fs.writeFileSync(file, stringify(config));
      d = daemon(NSVISOR, ['run', '-c', file], path.join(dir, 'nsvisor.out'));
    },
    daemonPid: () => d!.child.pid!,
    gone: () => goneWith(d!.child.pid!, path.join(dir, 'nsvisor.out')),
    async runningCount() {
      if (!fs.existsSync(socket)) return 0;
      const text = await output(NSVISOR, ['status', '--json', '--socket', socket]);
      try {
        return (JSON.parse(text) as { state: string }[]).filter((s) => s.state === 'running').length;
      } catch {
        return 0; // not answering yet
      }
    },
    stop: () => signalStop('nsvisor', d!.child, d!.exited),
    logFile: (name) => path.join(logDir, `${name}.log`),
    async cleanup() {
      if (d && alive(d.child.pid!)) await signalStop('nsvisor', d.child, d.exited);
      await openCgroups({ root, prepare: false }).removeRoot();
    },
  };
}
