/* The steps of starting a service, shared by the spawn child, nsvisor-init and the addon, so a failure names exactly where it happened. */
#ifndef NSV_STEPS_H
#define NSV_STEPS_H

#include <stdint.h>

/* X(id, name): name is what the user reads, e.g. "pivot_root(/srv/web): Invalid argument". The ids are the numbers
   on the status pipe and in addon.steps: new steps go at the end, none is ever renumbered. */
#define NSV_STEPS(X)                          \
  X(STEP_SIGNALS, "rt_sigaction")             \
  X(STEP_PDEATHSIG, "prctl(PR_SET_PDEATHSIG)")\
  X(STEP_SYNC, "wait for the supervisor")     \
  X(STEP_FDS, "dup3")                         \
  X(STEP_SETSID, "setsid")                    \
  X(STEP_BECOME_ROOT, "setresuid(0) in the user namespace") \
  X(STEP_CLEAR_GROUPS, "setgroups(0)")        \
  X(STEP_UNSHARE_TIME, "unshare(CLONE_NEWTIME)")\
  X(STEP_CLOCK, "clock_gettime")              \
  X(STEP_TIME_OFFSETS, "write /proc/self/timens_offsets") \
  X(STEP_UNSHARE_CGROUP, "unshare(CLONE_NEWCGROUP)") \
  X(STEP_PROPAGATION, "mount(/, propagation)")\
  X(STEP_ROOTFS_BIND, "mount(rootfs, MS_BIND)") \
  X(STEP_MKDIR, "mkdir")                      \
  X(STEP_MOUNT, "mount")                      \
  X(STEP_MOUNT_READONLY, "mount_setattr(MOUNT_ATTR_RDONLY)") \
  X(STEP_CHDIR_ROOTFS, "chdir(rootfs)")       \
  X(STEP_PIVOT_ROOT, "pivot_root")            \
  X(STEP_UMOUNT_OLD_ROOT, "umount2(old root, MNT_DETACH)") \
  X(STEP_READONLY_ROOT, "mount_setattr(/, MOUNT_ATTR_RDONLY)") \
  X(STEP_HOSTNAME, "sethostname")             \
  X(STEP_DOMAINNAME, "setdomainname")         \
  X(STEP_LOOPBACK, "bring up lo")             \
  X(STEP_CWD, "chdir")                        \
  X(STEP_EXEC_INIT, "execve(nsvisor-init)")   \
  X(STEP_INIT_FORK, "fork")                   \
  X(STEP_SETGROUPS, "setgroups")              \
  X(STEP_SETGID, "setgid")                    \
  X(STEP_SETUID, "setuid")                    \
  X(STEP_CAP_BOUND, "prctl(PR_CAPBSET_DROP)") \
  X(STEP_KEEPCAPS, "prctl(PR_SET_KEEPCAPS)")  \
  X(STEP_CAPSET, "capset")                    \
  X(STEP_CAP_AMBIENT, "prctl(PR_CAP_AMBIENT_RAISE)") \
  X(STEP_NO_NEW_PRIVS, "prctl(PR_SET_NO_NEW_PRIVS)") \
  X(STEP_EXEC, "execve")                      \
  X(STEP_SECCOMP_READ, "read the seccomp filter (--seccomp-fd)") \
  X(STEP_SECCOMP, "seccomp(SECCOMP_SET_MODE_FILTER)") \
  /* spawn child: one step for each system call that had none of its own */ \
  X(STEP_SIGMASK, "rt_sigprocmask")           \
  X(STEP_CLOSE_PIPE_ENDS, "close(the supervisor's pipe ends)") \
  X(STEP_PDEATHSIG_REARM, "prctl(PR_SET_PDEATHSIG) after the id change") \
  X(STEP_SUPERVISOR_CHECK, "ppoll(status pipe)") \
  X(STEP_BECOME_ROOT_GID, "setresgid(0) in the user namespace") \
  X(STEP_FDS_DUP, "fcntl(F_DUPFD_CLOEXEC)")   \
  X(STEP_CLOSE_RANGE, "close_range")          \
  X(STEP_OPEN_TIME_OFFSETS, "open /proc/self/timens_offsets") \
  X(STEP_CLOSE_TIME_OFFSETS, "close /proc/self/timens_offsets") \
  X(STEP_LOOPBACK_SOCKET, "socket(AF_INET) for lo") \
  X(STEP_LOOPBACK_FLAGS, "ioctl(lo, SIOCGIFFLAGS)") \
  X(STEP_LOOPBACK_CLOSE, "close(socket for lo)") \
  X(STEP_ROOT_PRIVATE, "mount(/, MS_PRIVATE) for pivot_root") \
  X(STEP_CREATE_FILE, "mknod")               \
  X(STEP_CGROUP_CLONE, "open_tree(/sys/fs/cgroup, OPEN_TREE_CLONE)") \
  X(STEP_CGROUP_MOVE, "move_mount(cgroup mounts under the new sysfs)") \
  X(STEP_CLOSE_TREE, "close(mount tree)")     \
  X(STEP_PTMX_LINK, "symlink(pts/ptmx)")      \
  X(STEP_CHDIR_NEW_ROOT, "chdir(/) in the new root") \
  X(STEP_CARRY_CLONE, "open_tree(OPEN_TREE_CLONE)") \
  X(STEP_CARRY_READONLY, "mount_setattr(carried mount, MOUNT_ATTR_RDONLY)") \
  X(STEP_CARRY_MOVE, "move_mount")           \
  /* nsvisor-init: one step for each system call that had none of its own */ \
  X(STEP_INIT_STATUS_FD, "fcntl(status pipe)") \
  X(STEP_INIT_STATUS_WRITE, "write(status pipe)") \
  X(STEP_INIT_PDEATHSIG, "prctl(PR_SET_PDEATHSIG) in nsvisor-init") \
  X(STEP_INIT_SUBREAPER, "prctl(PR_SET_CHILD_SUBREAPER)") \
  X(STEP_INIT_SIGMASK, "sigprocmask")         \
  X(STEP_INIT_SIGACTION, "sigaction(SIGTTIN, SIGTTOU)") \
  X(STEP_INIT_SIGNALFD, "signalfd")           \
  X(STEP_INIT_EXEC_PIPE, "pipe2")             \
  X(STEP_INIT_POLL, "poll")                   \
  X(STEP_INIT_READ_SIGNAL, "read(signalfd)")  \
  X(STEP_INIT_WAIT, "waitpid")                \
  X(STEP_INIT_CLOSE, "close")                 \
  X(STEP_SETPGID, "setpgid")                  \
  X(STEP_TCSETPGRP, "tcsetpgrp")              \
  X(STEP_COMMAND_SIGACTION, "sigaction (the command's signals)") \
  X(STEP_COMMAND_SIGMASK, "sigprocmask (the command's signal mask)") \
  X(STEP_COMMAND_PDEATHSIG, "prctl(PR_SET_PDEATHSIG) in the command") \
  X(STEP_PARENT_CHANGED, "nsvisor-init ended before the command started") \
  X(STEP_SETENV, "setenv(LISTEN_PID, WATCHDOG_PID)") \
  X(STEP_JOIN_PIDFD, "pidfd_open")            \
  X(STEP_JOIN_NS_INFO, "stat(/proc/PID/ns)")  \
  X(STEP_JOIN_SETNS, "setns")                 \
  X(STEP_JOIN_IDS, "setresuid(0) in the joined user namespace") \
  X(STEP_KEEP_WRITABLE, "mount_setattr(read-only cleared)") \
  X(STEP_SYMLINK, "symlink")                  \
  X(STEP_INIT_OUTPUT_FD, "fcntl(output pipe)")

enum nsv_step {
#define NSV_STEP_ENUM(id, name) id,
  NSV_STEPS(NSV_STEP_ENUM)
#undef NSV_STEP_ENUM
  STEP_COUNT
};

/* Records on the status pipe, child -> supervisor. Small enough that each write is atomic. nsvisor-init keeps
   the pipe for the life of the service: EXEC_OK once the main process runs its command, then REAPED now and then. */
/* MAIN_EXIT, written by nsvisor-init just before it exits: how the main process ended (step = its exit code, or -1
   when a signal killed it; err = that signal, or 0), which its own exit code 128+N cannot tell from an exit(128+N). */
enum nsv_record_kind { NSV_REC_INIT_STARTED = 1, NSV_REC_ERROR = 2, NSV_REC_EXEC_OK = 3, NSV_REC_REAPED = 4, NSV_REC_MAIN_EXIT = 5 };

struct nsv_record {
  int32_t kind;  /* enum nsv_record_kind */
  int32_t step;  /* enum nsv_step, for errors; for REAPED, how many orphans were reaped since the last one */
  int32_t err;   /* errno, for errors */
  int32_t index; /* which mount (or -1) the step was working on */
};

#endif
