// The calls nsvisor's default seccomp profile allows every service, grouped by what they act on (Docker's default allow-list).

/** Paths, directories and file metadata. */
const FILES = [
  'access', 'faccessat', 'faccessat2', 'chdir', 'fchdir', 'getcwd', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2',
  'chown', 'fchown', 'fchownat', 'lchown', 'creat', 'open', 'openat', 'openat2', 'close', 'close_range',
  'mkdir', 'mkdirat', 'mknod', 'mknodat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link', 'linkat',
  'symlink', 'symlinkat', 'unlink', 'unlinkat', 'readlink', 'readlinkat', 'stat', 'fstat', 'lstat', 'newfstatat',
  'statx', 'statfs', 'fstatfs', 'truncate', 'ftruncate', 'umask', 'utime', 'utimes', 'utimensat', 'futimesat',
  'getdents', 'getdents64', 'name_to_handle_at', 'listmount', 'statmount',
];

/** Extended attributes; file_getattr and file_setattr (Linux 6.17) are nsvisor's additions, the inode flags that
    ioctl(FS_IOC_FSGETXATTR) already reaches. */
const XATTRS = [
  'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
  'listxattr', 'llistxattr', 'flistxattr', 'listxattrat', 'removexattr', 'lremovexattr', 'fremovexattr', 'removexattrat',
  'file_getattr', 'file_setattr',
];

/** Reading, writing and controlling open files. */
const FILE_IO = [
  'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'lseek',
  'sendfile', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'dup', 'dup2', 'dup3', 'fcntl', 'flock', 'ioctl',
  'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'fallocate', 'fadvise64', 'readahead', 'pipe', 'pipe2',
  'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents',
];

/** Waiting for events on descriptors. */
const EVENTS = [
  'poll', 'ppoll', 'select', 'pselect6', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait',
  'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4', 'timerfd_create',
  'timerfd_settime', 'timerfd_gettime', 'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch',
  'fanotify_mark',
];

/** The process's own memory. */
const MEMORY = [
  'brk', 'mmap', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'mlock', 'mlock2', 'mlockall',
  'munlock', 'munlockall', 'memfd_create', 'memfd_secret', 'membarrier', 'pkey_alloc', 'pkey_free', 'pkey_mprotect',
  'remap_file_pages', 'map_shadow_stack', 'mseal', 'process_mrelease', 'cachestat',
];

/** Processes and threads: lifecycle, ids, futexes, and the per-thread state libc and runtimes manage. ptrace and
    process_vm_* are safe here since Linux 4.8 (a tracer can no longer step around the filter), below nsvisor's 5.12.
    uprobe and rseq_slice_yield are nsvisor's additions (Linux 6.16 and 7.0), as harmless as uretprobe and rseq. */
const PROCESSES = [
  'execve', 'execveat', 'fork', 'vfork', 'exit', 'exit_group', 'wait4', 'waitid', 'kill', 'tkill', 'tgkill',
  'pidfd_open', 'pidfd_send_signal', 'getpid', 'getppid', 'gettid', 'getpgid', 'getpgrp', 'setpgid', 'getsid',
  'setsid', 'set_tid_address', 'set_robust_list', 'get_robust_list', 'rseq', 'rseq_slice_yield', 'futex',
  'futex_waitv', 'futex_wake', 'futex_wait', 'futex_requeue', 'prctl', 'arch_prctl', 'modify_ldt', 'get_thread_area',
  'set_thread_area', 'capget', 'capset', 'restart_syscall', 'seccomp', 'landlock_create_ruleset', 'landlock_add_rule',
  'landlock_restrict_self', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'getcpu', 'uretprobe', 'uprobe',
];

/** User and group ids (the kernel checks CAP_SETUID / CAP_SETGID itself). */
const IDENTITY = [
  'getuid', 'geteuid', 'getgid', 'getegid', 'getresuid', 'getresgid', 'getgroups', 'setuid', 'setgid', 'setreuid',
  'setregid', 'setresuid', 'setresgid', 'setfsuid', 'setfsgid', 'setgroups',
];

/** Scheduling, priorities, resource limits and accounting of the caller; what the system tells of itself. */
const SCHEDULING = [
  'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr', 'sched_getparam',
  'sched_setparam', 'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_rr_get_interval', 'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set', 'getrlimit', 'setrlimit',
  'prlimit64', 'getrusage', 'times', 'sysinfo', 'uname', 'getrandom',
];

/** Signals and interval timers. */
const SIGNALS = [
  'rt_sigaction', 'rt_sigprocmask', 'rt_sigpending', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigqueueinfo',
  'rt_tgsigqueueinfo', 'rt_sigreturn', 'sigaltstack', 'pause', 'alarm', 'getitimer', 'setitimer',
];

/** Reading clocks, sleeping, POSIX timers (adjtimex and clock_adjtime only read without CAP_SYS_TIME). */
const TIME = [
  'clock_gettime', 'clock_getres', 'clock_nanosleep', 'nanosleep', 'gettimeofday', 'time', 'adjtimex', 'clock_adjtime',
  'timer_create', 'timer_delete', 'timer_gettime', 'timer_settime', 'timer_getoverrun',
];

/** Sockets once made (socket itself is allowed by address family, in default-profile.ts). */
const SOCKETS = [
  'socketpair', 'bind', 'listen', 'accept', 'accept4', 'connect', 'getsockname', 'getpeername', 'getsockopt',
  'setsockopt', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'shutdown',
];

/** System V and POSIX message queues, semaphores and shared memory (namespaced by the ipc namespace). */
const IPC = [
  'msgget', 'msgctl', 'msgrcv', 'msgsnd', 'semget', 'semctl', 'semop', 'semtimedop', 'shmget', 'shmat', 'shmctl',
  'shmdt', 'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedreceive', 'mq_notify', 'mq_getsetattr',
];

export const ALLOWED_FOR_ALL: readonly string[] = [
  ...FILES, ...XATTRS, ...FILE_IO, ...EVENTS, ...MEMORY, ...PROCESSES, ...IDENTITY, ...SCHEDULING, ...SIGNALS, ...TIME,
  ...SOCKETS, ...IPC,
];
