// The built-in demo (SPEC section 6): what `nsvisor run` supervises when there is no configuration file anywhere.
import type { ConfigInput } from './schema';

export const DEMO_HTTP_PORT = 8753;

/** A tiny HTTP server in Node (always there, unlike python3) that answers with its view of its namespaces. */
const HTTP_SERVER = `
const fs = require('fs'), os = require('os');
require('http').createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end([
    'hello from the nsvisor demo',
    'hostname: ' + os.hostname(),
    'pid: ' + process.pid + ' (parent ' + process.ppid + ')',
    'cgroup: ' + fs.readFileSync('/proc/self/cgroup', 'utf8').trim(),
    '',
  ].join('\\n'));
}).listen(${DEMO_HTTP_PORT}, '127.0.0.1', () => console.log('listening on http://127.0.0.1:${DEMO_HTTP_PORT}/'));
`;

/** Every few seconds, one line of what the namespaces look like from inside. */
const WORKER = `
while :; do
  cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)
  [ -n "$cgroup" ] || cgroup=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
  echo "hostname=$(hostname) pid=$$ ppid=$PPID cgroup=$cgroup uptime=$(cut -d' ' -f1 /proc/uptime)s processes=$(ls -d /proc/[0-9]* | wc -l)"
  sleep 5
done
`;

export function demoConfig(nodePath: string = process.execPath): ConfigInput {
  return {
    supervisor: { metrics: '127.0.0.1:9753', logDir: '-' },
    services: {
      web: {
        command: [nodePath, '--max-old-space-size=32', '-e', HTTP_SERVER],
        isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup'],
        resources: { memory: '64Mi', pids: 64 },
        ready: { http: `http://127.0.0.1:${DEMO_HTTP_PORT}/`, timeout: '10s' },
      },
      worker: {
        command: ['/bin/sh', '-c', WORKER],
        isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup'],
        resources: { memory: '16Mi', pids: 16 },
        restart: { policy: 'always' },
        dependsOn: ['web'],
      },
    },
  };
}
