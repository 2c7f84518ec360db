// Named points on the launch and log paths where a test can make a step fail; without an injector (production) they do nothing.

/** The steps a test can make fail, each checked once per attempt with what it works on (a service, a file, a path). */
export type FaultPoint =
  | 'cgroup.create'
  | 'cgroup.limit'
  | 'cgroup.placement'
  | 'cgroup.destroy'
  | 'lease'
  | 'listen'
  | 'netlink'
  | 'spawn'
  | 'status-record'
  | 'log-write';

/** Throws to make the step fail, or returns a replacement for `value` (a status record's bytes), or returns `value`. */
export type FaultInjector = (point: FaultPoint, subject: string, value: unknown) => unknown;

let injector: FaultInjector | null = null;

/** Called by the code at each point; returns `value` unless a test's injector replaces it (or throws instead). */
export function faultPoint<T>(point: FaultPoint, subject: string, value?: T): T {
  return injector ? (injector(point, subject, value) as T) : (value as T);
}

/** Installs the injector of a test (test/fault/preload.ts); null removes it. */
export function setFaultInjector(fn: FaultInjector | null): void {
  injector = fn;
}
