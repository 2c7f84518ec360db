// The architectures nsvisor builds seccomp filters for: their system call tables, seccomp_data.arch values and profile names.
import * as os from 'os';

import { SYSCALLS as AARCH64_SYSCALLS } from './tables/aarch64';
import { ALL_SYSCALL_NAMES } from './tables/names';
import { SYSCALLS as X86_64_SYSCALLS } from './tables/x86-64';

export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface ArchInfo {
  /** seccomp_data.arch of the native ABI: AUDIT_ARCH_* of include/uapi/linux/audit.h. */
  auditArch: number;
  /** How `includes.arches` / `excludes.arches` of a Docker profile name it (Go's GOARCH). */
  profileName: string;
  /** Set in seccomp_data.nr by a second ABI that shares auditArch (x32 on x86_64), else 0. */
  otherAbiBit: number;
  /** Name -> number, as seccomp_data.nr sees it. */
  syscalls: ReadonlyMap<string, number>;
  /** The highest number in the table: anything above is a call newer than the table. */
  highest: number;
}

function info(auditArch: number, profileName: string, otherAbiBit: number, table: Readonly<Record<string, number>>): ArchInfo {
  const syscalls = new Map(Object.entries(table));
  return { auditArch, profileName, otherAbiBit, syscalls, highest: Math.max(...syscalls.values()) };
}

const INFO: Record<Arch, ArchInfo> = {
  x86_64: info(0xc000003e, 'amd64', 0x40000000, X86_64_SYSCALLS),
  aarch64: info(0xc00000b7, 'arm64', 0, AARCH64_SYSCALLS),
};

export function archInfo(arch: Arch): ArchInfo {
  return INFO[arch];
}

/** The architecture of this machine, as the filter must target it; throws where nsvisor has no table. */
export function hostArch(): Arch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new Error(`seccomp: no system call table for this machine's architecture (${process.arch}); nsvisor knows ${ARCHES.join(' and ')}`);
}

/** The running kernel's version as [major, minor], from uname's release ("6.18.44-foo" -> [6, 18]). */
export function hostKernel(release: string = os.release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`seccomp: cannot read a kernel version from "${release}"`);
  return [Number(m[1]), Number(m[2])];
}

/** Every name a Linux system call has on some architecture: other names are typos. */
export const KNOWN_SYSCALL_NAMES: ReadonlySet<string> = new Set(ALL_SYSCALL_NAMES);

/** `architectures` of an OCI profile: libseccomp's SCMP_ARCH_* names. */
export const OCI_ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
] as const;

/** `includes.arches` / `excludes.arches` of a Docker profile: the Go names Docker compares with its own GOARCH. */
export const PROFILE_ARCH_NAMES = [
  'x86', 'amd64', 'x32', 'arm', 'arm64', 'loong64', 'loongarch64', 'mips', 'mipsle', 'mipsel', 'mips64', 'mips64n32',
  'mipsel64', 'mips3l64n32', 'ppc', 'ppc64', 'ppc64le', 'riscv64', 's390', 's390x',
] as const;
