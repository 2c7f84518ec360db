// Loaded with `node --require` into a real `nsvisor run` by the fault tests: makes the steps NSVISOR_TEST_FAULTS names fail.
import * as os from 'os';

import { FaultPoint, setFaultInjector } from '../../src/fault/seam';
import { addon } from '../../src/native';

/** One fault: at `point`, when the subject matches `subject`, fail with `errno` (`times` times, default always). */
export interface FaultSpec {
  point: FaultPoint;
  subject: string;
  errno?: string;
  times?: number;
}

export const FAULTS_ENV = 'NSVISOR_TEST_FAULTS';

/** The points whose real failures come from the addon: a positive errno and the call in `syscall`, no path. */
const ADDON_CALLS: Partial<Record<FaultPoint, (subject: string) => string>> = {
  spawn: () => 'clone3',
  netlink: (subject) => `RTM_NEWLINK veth ${subject}`,
  listen: (subject) => `bind/listen(${subject})`,
};

/** What each point's real failure looks like: the error its layer would have seen from the kernel. */
function failure(spec: FaultSpec, subject: string): Error {
  const code = spec.errno ?? 'EIO';
  const errno = (os.constants.errno as Record<string, number>)[code];
  const call = ADDON_CALLS[spec.point];
  if (call) return Object.assign(new Error(`${call(subject)}: ${addon.strerror(errno)}`), { syscall: call(subject), errno });
  // As Node's fs reports it: a negative errno, the code, the call and the path.
  return Object.assign(new Error(`${code}: ${addon.strerror(errno)}, write '${subject}'`), { code, errno: -errno, syscall: 'write', path: subject });
}

/** Bytes no record kind has: what a confused nsvisor-init (or memory corruption) would leave on the status pipe. */
const GARBAGE = Buffer.from([0xff, 0x7f, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

const specs: FaultSpec[] = JSON.parse(process.env[FAULTS_ENV] ?? '[]');
const left = specs.map((s) => s.times ?? Infinity);

setFaultInjector((point, subject, value) => {
  const i = specs.findIndex((s, k) => s.point === point && left[k] > 0 && new RegExp(s.subject).test(subject));
  if (i < 0) return value;
  left[i]--;
  if (point === 'status-record') return GARBAGE;
  throw failure(specs[i], subject);
});
