// nsvisor's default seccomp profile, modelled on Docker's: an allow-list, EPERM for the rest, and what a kept capability opens.
import { ENOSYS, EPERM } from './actions';
import { ALLOWED_FOR_ALL } from './default-allow-list';
import type { ArgCondition, SeccompProfile, SeccompRule } from './profile';

const ALLOW = { kind: 'allow' } as const;

/** clone(2)'s namespace flags (linux/sched.h). clone cannot take CLONE_NEWTIME: its low byte is the exit signal. */
const CLONE_NAMESPACES = 0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ |
  0x08000000 /* NEWIPC */ | 0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ | 0x40000000 /* NEWNET */;
/** unshare(2) takes CLONE_NEWTIME too. */
const UNSHARE_NAMESPACES = CLONE_NAMESPACES | 0x00000080;

/** socket(2) families refused: AF_ALG (38, the kernel's crypto API) and AF_VSOCK (40, the hypervisor's sockets). */
const AF_ALG = 38;
const AF_VSOCK = 40;

/** personality(2) values allowed: PER_LINUX, UNAME26, ADDR_NO_RANDOMIZE, both, and 0xffffffff (query only). */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const arg0 = (op: ArgCondition['op'], value: number, valueTwo = 0): ArgCondition => ({ index: 0, op, value: BigInt(value), valueTwo: BigInt(valueTwo) });
const allowWhen = (name: string, condition: ArgCondition, extra: Partial<SeccompRule> = {}): SeccompRule => ({ names: [name], action: ALLOW, args: [condition], ...extra });

/** What each capability, when kept, adds to the allow-list: the calls the capability is there to permit. */
const WITH_CAPABILITY: Record<string, string[]> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
    'open_tree_attr', 'listns', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname',
    'setns', 'syslog', 'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['init_module', 'finit_module', 'delete_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'clock_settime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** Without CAP_SYS_ADMIN: clone and unshare only without namespace flags, and clone3 (whose flags sit in memory a
    filter cannot read) fails with ENOSYS, so that glibc falls back to clone (moby#42680). */
const unlessSysAdmin = { excludes: { caps: ['CAP_SYS_ADMIN'] } };
const WITHOUT_SYS_ADMIN: SeccompRule[] = [
  allowWhen('clone', arg0('SCMP_CMP_MASKED_EQ', CLONE_NAMESPACES, 0), unlessSysAdmin),
  allowWhen('unshare', arg0('SCMP_CMP_MASKED_EQ', UNSHARE_NAMESPACES, 0), unlessSysAdmin),
  { names: ['clone3'], action: { kind: 'errno', errno: ENOSYS }, ...unlessSysAdmin },
];

/** A fresh copy of the profile (callers may change it). Beyond Docker's: unshare without namespace flags, the calls of
    Linux 6.15 to 7.0 (file_getattr, file_setattr, uprobe, rseq_slice_yield for all; open_tree_attr and listns with
    CAP_SYS_ADMIN), ptrace without a kernel version condition. The rest of the table gets EPERM. */
export function defaultProfile(): SeccompProfile {
  return {
    defaultAction: { kind: 'errno', errno: EPERM },
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    rules: [
      { names: [...ALLOWED_FOR_ALL], action: ALLOW },
      ...PERSONALITIES.map((p) => allowWhen('personality', arg0('SCMP_CMP_EQ', p))),
      allowWhen('socket', arg0('SCMP_CMP_LT', AF_ALG)),
      allowWhen('socket', arg0('SCMP_CMP_EQ', AF_ALG + 1)),
      allowWhen('socket', arg0('SCMP_CMP_GT', AF_VSOCK)),
      ...Object.entries(WITH_CAPABILITY).map(([cap, names]): SeccompRule => ({ names, action: ALLOW, includes: { caps: [cap] } })),
      ...WITHOUT_SYS_ADMIN,
    ],
  };
}
