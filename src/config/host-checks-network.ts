// Host checks of what a service takes from the host's network: its fixed address, its device, its tcp `listen` ports, the metrics port.
import type { HostFacts, HostProblem, TcpListener } from './host-checks-facts';
import { collides } from './host-checks-tcp';
import type { Config, ServiceConfig } from './schema';

/** The first listener another process holds that binding host:port would collide with, and that process when known. */
function takenBy(host: HostFacts, listeners: TcpListener[], address: string, port: number): string | null {
  for (const l of listeners) {
    if (!collides(address, port, l)) continue;
    const owner = host.socketOwner(l.inode);
    if (owner?.pid === host.pid) continue;
    const on = l.family === 6 ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
    return owner ? `${owner.command} (pid ${owner.pid}) listens on ${on}` : `a process this check cannot see listens on ${on}`;
  }
  return null;
}

/** `network.address` leased by another holder, a `network.device` that is not there, and tcp `listen` ports already bound. */
export function networkProblems(name: string, svc: ServiceConfig, host: HostFacts, listeners: () => TcpListener[]): HostProblem[] {
  const problems: HostProblem[] = [];
  const add = (key: string, message: string) => problems.push({ service: name, path: `services.${name}.${key}`, message, permanent: false });
  const { attach, address, device } = svc.network ?? {};
  const holder = attach && address ? host.leaseHolder(attach, address) : null;
  if (holder && holder.pid !== host.pid) {
    add(
      'network.address',
      `${address} on network ${attach} is leased to ${holder.owner} of another nsvisor process (pid ${holder.pid}); ` +
        'choose another address, or leave address out to get the next free one',
    );
  }
  if (device && !host.deviceExists(device)) {
    add(
      'network.device',
      `there is no network device ${device} on this host; create it or correct the name (until it exists, each start fails ` +
        'and the service waits in backoff)',
    );
  }
  svc.listen.forEach((l, i) => {
    if (l.type !== 'tcp') return;
    const taken = takenBy(host, listeners(), l.host, l.port);
    if (taken) add(`listen[${i}]`, `port ${l.port} is already bound: ${taken}; stop that process, or choose another port`);
  });
  return problems;
}

/** The metrics endpoint's port bound by another process: `nsvisor run` would stop at once. */
export function metricsProblems(config: Config, host: HostFacts, listeners: () => TcpListener[]): HostProblem[] {
  const m = config.supervisor.metrics;
  const taken = m ? takenBy(host, listeners(), m.host, m.port) : null;
  if (!m || !taken) return [];
  return [{
    service: null,
    path: 'supervisor.metrics',
    message: `port ${m.port} is already bound: ${taken}; stop that process, choose another port, or set metrics: off`,
    permanent: false,
  }];
}
