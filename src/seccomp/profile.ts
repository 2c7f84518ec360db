// The seccomp profile model: what an OCI runtime-spec `linux.seccomp` or a Docker seccomp JSON profile says, checked and typed.

/** What the kernel does with a call (SECCOMP_RET_* of seccomp(2)). */
export type SeccompAction =
  | { kind: 'allow' }
  | { kind: 'log' }
  /** The call is not made; it returns -1 with this errno. */
  | { kind: 'errno'; errno: number }
  /** SIGSYS to the thread. */
  | { kind: 'trap' }
  /** A ptrace tracer is told, with this 16-bit value; without one the call fails with ENOSYS. */
  | { kind: 'trace'; data: number }
  | { kind: 'killThread' }
  | { kind: 'killProcess' };

/** libseccomp's comparison operators, on the whole 64-bit argument. */
export const COMPARE_OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/** args[index] op value; for SCMP_CMP_MASKED_EQ: (args[index] & value) == valueTwo. Unsigned 64-bit. */
export interface ArgCondition {
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: CompareOp;
}

/** When a rule applies (`includes`: all of it must hold) or not (`excludes`: any of it suffices), as Docker's profiles say. */
export interface RuleFilter {
  /** CAP_* names the process keeps. */
  caps?: string[];
  /** Docker's (Go's) architecture names: amd64, arm64, ... */
  arches?: string[];
  /** [major, minor]: the running kernel is at least this version. */
  minKernel?: [number, number];
}

export interface SeccompRule {
  names: string[];
  action: SeccompAction;
  /** All must hold, unless two name the same argument: then each is a rule of its own (as runc does). */
  args?: ArgCondition[];
  includes?: RuleFilter;
  excludes?: RuleFilter;
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  /** SCMP_ARCH_* the profile names (from `architectures` or `archMap`). The filter admits only the native ABI of the
      architecture it is compiled for; other ABIs, these included, get the foreign-architecture action. */
  architectures: string[];
  /** In order: for a call, the first rule whose conditions hold decides. */
  rules: SeccompRule[];
}
