// Service states (SPEC 4.1) and the transitions between them; any other transition is a bug and throws.
export const STATES = ['starting', 'running', 'stopping', 'stopped', 'backoff', 'failed'] as const;
export type ServiceState = (typeof STATES)[number];

const ALLOWED: Record<ServiceState, ServiceState[]> = {
  stopped: ['starting', 'failed'],
  starting: ['running', 'stopping', 'backoff', 'failed', 'stopped'],
  running: ['stopping', 'backoff', 'stopped'],
  stopping: ['stopped'],
  backoff: ['starting', 'stopped'],
  failed: ['starting', 'stopped'],
};

export function assertTransition(name: string, from: ServiceState, to: ServiceState): void {
  if (!ALLOWED[from].includes(to)) throw new Error(`${name}: illegal state transition ${from} -> ${to}`);
}
