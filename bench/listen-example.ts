// The example zero-downtime service (examples/listen/server.js) as a service configuration, for the restart test and bench.
import * as net from 'net';
import * as path from 'path';

export const exampleServer = path.resolve(__dirname, '..', '..', 'examples', 'listen', 'server.js');

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface ExampleOptions {
  port: number;
  /** A unix socket path to hold besides the port. */
  unixPath?: string;
  /** A broken deploy: while `flag` exists, a new instance exits 1 at once, or hangs without ever getting ready. */
  broken?: { flag: string; how: 'exit' | 'hang' };
  readyTimeout?: string;
  /** APP_VERSION in its environment: the server answers with it. */
  version?: string;
}

/** The service as examples/listen.yaml declares it, on the given port, with node and the server by absolute path. */
export function exampleService(o: ExampleOptions): Record<string, unknown> {
  const node = [process.execPath, exampleServer];
  const broken = o.broken?.how === 'hang' ? 'exec sleep 3600' : 'exit 1';
  const script = `if [ -e "$0" ]; then echo "broken deploy: $0 exists" >&2; ${broken}; fi; exec "$@"`;
  const command = o.broken ? ['/bin/sh', '-c', script, o.broken.flag, ...node] : node;
  return {
    command,
    ...(o.version ? { env: { APP_VERSION: o.version } } : {}),
    isolate: ['pid', 'mount', 'uts', 'ipc', 'cgroup', 'net'],
    mounts: [{ type: 'tmpfs', target: '/tmp' }],
    listen: [`tcp://127.0.0.1:${o.port}`, ...(o.unixPath ? [`unix://${o.unixPath}`] : [])],
    ready: { exec: ['test', '-e', '/tmp/ready'], timeout: o.readyTimeout ?? '60s' },
    capabilities: [],
    noNewPrivileges: true,
    restart: { policy: 'always', delay: '200ms' },
    stop: { timeout: '20s' },
  };
}
