/* The clone path: clone3 with CLONE_VM into fresh namespaces, then the child sets them up with raw syscalls only and executes nsvisor-init. */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "rawsys.h"
#include "steps.h"

/*
 * The child shares the supervisor's memory (CLONE_VM) until it executes
 * nsvisor-init, while the supervisor's other threads keep running. So the
 * child touches only its own stack and the request, which the supervisor keeps
 * alive until the child has executed or died, and calls the kernel directly:
 * no libc wrapper (errno is the parent thread's), no allocation, no locks.
 */

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

struct nsv_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Defined in assembly below: clone3 onto a new stack, run fn(arg) there, exit with its result. */
long nsv_clone3_run(struct clone_args *args, unsigned long size, int (*fn)(void *), void *arg);

#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl nsv_clone3_run\n"
    ".type nsv_clone3_run,@function\n"
    "nsv_clone3_run:\n"
    "  mov %rdx, %r8\n"        /* fn: r8 and r9 survive the syscall in both parent and child */
    "  mov %rcx, %r9\n"        /* arg */
    "  mov $435, %eax\n"       /* clone3 */
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jnz 1f\n"
    "  xor %ebp, %ebp\n"       /* child: on its own stack now */
    "  and $-16, %rsp\n"
    "  mov %r9, %rdi\n"
    "  call *%r8\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"        /* exit */
    "  syscall\n"
    "  hlt\n"
    "1:\n"
    "  ret\n"
    ".size nsv_clone3_run, .-nsv_clone3_run\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".globl nsv_clone3_run\n"
    ".type nsv_clone3_run,%function\n"
    "nsv_clone3_run:\n"
    "  mov x10, x2\n"
    "  mov x11, x3\n"
    "  mov x8, #435\n"
    "  svc #0\n"
    "  cbnz x0, 1f\n"
    "  mov x29, xzr\n"
    "  mov x0, x11\n"
    "  blr x10\n"
    "  mov x8, #93\n"
    "  svc #0\n"
    "1:\n"
    "  ret\n"
    ".size nsv_clone3_run, .-nsv_clone3_run\n");
#endif

static void report(int fd, int step, long neg_errno, int index) {
  struct nsv_record rec = {NSV_REC_ERROR, step, (int32_t)-neg_errno, index};
  nsv_sys3(SYS_write, fd, &rec, sizeof rec);
}

static size_t str_len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* Appends decimal v to buf at *pos. */
static void put_int(char *buf, size_t *pos, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
  if (v < 0) buf[(*pos)++] = '-';
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (n) buf[(*pos)++] = tmp[--n];
}

/* One line "CLOCK SEC NSEC" of /proc/PID/timens_offsets, or nothing for NSV_TIME_NONE. */
static long put_offset(char *buf, size_t *pos, int clock, const struct nsv_time_offset *o) {
  int64_t sec = o->sec, nsec = o->nsec;
  if (o->mode == NSV_TIME_NONE) return 0;
  if (o->mode == NSV_TIME_FROM_ZERO) {
    struct timespec now;
    long r = nsv_sys2(SYS_clock_gettime, clock, &now);
    if (r < 0) return r;
    sec = -(int64_t)now.tv_sec; /* whole seconds: the shifted clock starts just above 0 */
    nsec = 0;
  }
  put_int(buf, pos, clock);
  buf[(*pos)++] = ' ';
  put_int(buf, pos, sec);
  buf[(*pos)++] = ' ';
  put_int(buf, pos, nsec);
  buf[(*pos)++] = '\n';
  return 0;
}

static long setup_time(const struct nsv_spawn_req *req, int *step) {
  char buf[128];
  size_t pos = 0;
  long r;
  *step = STEP_UNSHARE_TIME;
  if ((r = nsv_sys1(SYS_unshare, CLONE_NEWTIME)) < 0) return r;
  *step = STEP_CLOCK;
  if ((r = put_offset(buf, &pos, CLOCK_MONOTONIC, &req->monotonic)) < 0) return r;
  if ((r = put_offset(buf, &pos, CLOCK_BOOTTIME, &req->boottime)) < 0) return r;
  if (pos == 0) return 0;
  *step = STEP_TIME_OFFSETS;
  int fd = (int)nsv_sys4(SYS_openat, AT_FDCWD, "/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) return fd;
  r = nsv_sys3(SYS_write, fd, buf, pos);
  nsv_sys1(SYS_close, fd);
  return r < 0 ? r : 0;
}

/* Moves stdio, passed fds, the status pipe and init's fd to 0.. and closes everything else. */
static long arrange_fds(const struct nsv_spawn_req *req, int *status_fd, int *init_fd) {
  int n = 3 + req->n_pass_fds + 2;
  int src[3 + 64 + 2], tmp[3 + 64 + 2];
  int i, base = n;
  for (i = 0; i < 3; i++) src[i] = req->stdio[i];
  for (i = 0; i < req->n_pass_fds; i++) src[3 + i] = req->pass_fds[i];
  src[n - 2] = req->status_fd;
  src[n - 1] = req->init_fd;
  for (i = 0; i < n; i++)
    if (src[i] >= base) base = src[i] + 1;
  for (i = 0; i < n; i++) {
    long r = nsv_sys3(SYS_fcntl, src[i], F_DUPFD_CLOEXEC, base);
    if (r < 0) return r;
    tmp[i] = (int)r;
  }
  for (i = 0; i < n; i++) {
    long r = nsv_sys3(SYS_dup3, tmp[i], i, i == n - 1 ? O_CLOEXEC : 0);
    if (r < 0) return r;
  }
  *status_fd = n - 2;
  *init_fd = n - 1;
  return nsv_sys3(SYS_close_range, n, ~0U, 0);
}

/* mkdir -p of path (or of its parent, then an empty file, when kind is 2). */
static long create_target(const char *path, int kind) {
  char buf[4096];
  size_t len = str_len(path), i;
  long r;
  if (len >= sizeof buf) return -ENAMETOOLONG;
  for (i = 0; i <= len; i++) buf[i] = path[i];
  for (i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i] == '\0' && kind == 2) break;
    char saved = buf[i];
    buf[i] = '\0';
    r = nsv_sys3(SYS_mkdirat, AT_FDCWD, buf, 0755);
    buf[i] = saved;
    if (r < 0 && r != -EEXIST) return r;
  }
  if (kind == 2) {
    r = nsv_sys4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (r < 0 && r != -EEXIST) return r;
    if (r >= 0) nsv_sys1(SYS_close, r);
  }
  return 0;
}

static long make_readonly(const char *path, unsigned int flags) {
  struct nsv_mount_attr attr = {MOUNT_ATTR_RDONLY, 0, 0, 0};
  return nsv_sys5(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr);
}

/* sysfs shows the devices of the network namespace that mounts it; the cgroup mounts below the old /sys are
   cloned first and put back under the new one, so the service still finds its cgroup files. */
static long mount_sysfs(const struct nsv_mount *m) {
  long tree = nsv_sys3(SYS_open_tree, AT_FDCWD, m->source, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
  long r = nsv_sys5(SYS_mount, "sysfs", m->target, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
  if (r >= 0 && tree >= 0) r = nsv_sys5(SYS_move_mount, tree, "", AT_FDCWD, m->data, MOVE_MOUNT_F_EMPTY_PATH);
  if (tree >= 0) nsv_sys1(SYS_close, tree);
  return r;
}

static long mount_one(const struct nsv_mount *m, int *step) {
  long r;
  if (m->create) {
    *step = STEP_MKDIR;
    if ((r = create_target(m->target, m->create)) < 0) return r;
  }
  *step = STEP_MOUNT;
  switch (m->kind) {
    case NSV_MOUNT_BIND:
      r = nsv_sys5(SYS_mount, m->source, m->target, 0, MS_BIND | MS_REC, 0);
      break;
    case NSV_MOUNT_TMPFS:
      r = nsv_sys5(SYS_mount, "tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV, m->data);
      break;
    case NSV_MOUNT_PROC:
      r = nsv_sys5(SYS_mount, "proc", m->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
      break;
    case NSV_MOUNT_MQUEUE:
      r = nsv_sys5(SYS_mount, "mqueue", m->target, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
      break;
    case NSV_MOUNT_SYSFS:
      r = mount_sysfs(m);
      break;
    case NSV_MOUNT_DEVPTS:
      /* Its own pseudo-terminals: the ptys of the host's instance stay out of reach. */
      r = nsv_sys5(SYS_mount, "devpts", m->target, "devpts", MS_NOSUID | MS_NOEXEC, m->data);
      if (r >= 0) r = nsv_sys3(SYS_symlinkat, "pts/ptmx", AT_FDCWD, m->source);
      break;
    default:
      r = -EINVAL;
  }
  if (r < 0 || !m->readonly) return r;
  *step = STEP_MOUNT_READONLY;
  return make_readonly(m->target, AT_RECURSIVE);
}

static long setup_mounts(const struct nsv_spawn_req *req, int *step, int *index) {
  long r;
  int i;
  if (req->propagation) {
    *step = STEP_PROPAGATION;
    if ((r = nsv_sys5(SYS_mount, 0, "/", 0, MS_REC | req->propagation, 0)) < 0) return r;
  }
  if (req->rootfs) {
    /* pivot_root refuses a shared parent; this changes our copy of / only. */
    if (req->propagation == MS_SHARED && (r = nsv_sys5(SYS_mount, 0, "/", 0, MS_PRIVATE, 0)) < 0) return r;
    *step = STEP_ROOTFS_BIND;
    if ((r = nsv_sys5(SYS_mount, req->rootfs, req->rootfs, 0, MS_BIND | MS_REC, 0)) < 0) return r;
  }
  for (i = 0; i < req->n_mounts; i++) {
    *index = i;
    if ((r = mount_one(&req->mounts[i], step)) < 0) return r;
  }
  *index = -1;
  if (req->rootfs) {
    *step = STEP_CHDIR_ROOTFS;
    if ((r = nsv_sys1(SYS_chdir, req->rootfs)) < 0) return r;
    *step = STEP_PIVOT_ROOT;
    if ((r = nsv_sys2(SYS_pivot_root, ".", ".")) < 0) return r;
    *step = STEP_UMOUNT_OLD_ROOT;
    if ((r = nsv_sys2(SYS_umount2, ".", MNT_DETACH)) < 0) return r;
    *step = STEP_CHDIR_ROOTFS;
    if ((r = nsv_sys1(SYS_chdir, "/")) < 0) return r;
  }
  if (req->readonly_root) {
    *step = STEP_READONLY_ROOT;
    if ((r = make_readonly("/", 0)) < 0) return r;
  }
  return 0;
}

static long loopback_up(void) {
  struct ifreq ifr;
  long r;
  int fd = (int)nsv_sys3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  for (size_t i = 0; i < sizeof ifr; i++) ((char *)&ifr)[i] = 0;
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  r = nsv_sys3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
  if (r >= 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    r = nsv_sys3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr);
  }
  nsv_sys1(SYS_close, fd);
  return r;
}

static int child_main(void *arg) {
  const struct nsv_spawn_req *req = arg;
  int status_fd = req->status_fd, init_fd = req->init_fd;
  int step = STEP_SIGNALS, index = -1;
  long r = 0;
  char go;

  nsv_sys1(SYS_close, req->sync_write_fd);
  nsv_sys1(SYS_close, req->status_read_fd);

  /* CLONE_CLEAR_SIGHAND reset the handlers; ignored signals (Node ignores SIGPIPE) stay ignored, so reset all. */
  for (int sig = 1; sig < 65; sig++) {
    struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } act = {SIG_DFL, 0, 0, 0};
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    nsv_sys4(SYS_rt_sigaction, sig, &act, 0, 8);
  }
  uint64_t empty = 0;
  if ((r = nsv_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8)) < 0) goto fail;

  step = STEP_PDEATHSIG;
  if ((r = nsv_sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0) goto fail;

  /* The supervisor writes our id maps, cgroup and network, then says go. EOF: it gave up or died. */
  step = STEP_SYNC;
  do r = nsv_sys3(SYS_read, req->sync_fd, &go, 1);
  while (r == -EINTR);
  if (r != 1) return 125;
  nsv_sys1(SYS_close, req->sync_fd);

  if (req->new_session) {
    step = STEP_SETSID;
    if ((r = nsv_sys0(SYS_setsid)) < 0) goto fail;
  }
  if (req->clear_groups) {
    step = STEP_CLEAR_GROUPS;
    if ((r = nsv_sys2(SYS_setgroups, 0, 0)) < 0) goto fail;
  }
  if (req->become_root) {
    /* We still carry the creator's ids, unmapped here; root of the new namespace is who we must be. */
    step = STEP_BECOME_ROOT;
    if ((r = nsv_sys3(SYS_setresgid, 0, 0, 0)) < 0 || (r = nsv_sys3(SYS_setresuid, 0, 0, 0)) < 0) goto fail;
  }
  step = STEP_FDS;
  if ((r = arrange_fds(req, &status_fd, &init_fd)) < 0) {
    status_fd = req->status_fd; /* may still be open at its old number */
    goto fail;
  }
  if (req->unshare_time && (r = setup_time(req, &step)) < 0) goto fail;
  if (req->unshare_cgroup) {
    step = STEP_UNSHARE_CGROUP;
    if ((r = nsv_sys1(SYS_unshare, CLONE_NEWCGROUP)) < 0) goto fail;
  }
  if (req->hostname) {
    step = STEP_HOSTNAME;
    if ((r = nsv_sys2(SYS_sethostname, req->hostname, str_len(req->hostname))) < 0) goto fail;
  }
  if (req->domainname) {
    step = STEP_DOMAINNAME;
    if ((r = nsv_sys2(SYS_setdomainname, req->domainname, str_len(req->domainname))) < 0) goto fail;
  }
  if (req->loopback_up) {
    step = STEP_LOOPBACK;
    if ((r = loopback_up()) < 0) goto fail;
  }
  if ((r = setup_mounts(req, &step, &index)) < 0) goto fail;
  if (req->cwd) {
    step = STEP_CWD;
    if ((r = nsv_sys1(SYS_chdir, req->cwd)) < 0) goto fail;
  }
  step = STEP_EXEC_INIT;
  r = nsv_sys5(SYS_execveat, init_fd, "", req->argv, req->envp, AT_EMPTY_PATH);
fail:
  report(status_fd, step, r, index);
  return 125;
}

long nsv_spawn_start(struct nsv_spawn_req *req, void *stack, unsigned long stack_size, int *pidfd_out) {
  struct clone_args args;
  sigset_t all, old;
  long pid;
  char *p = (char *)&args;
  for (size_t i = 0; i < sizeof args; i++) p[i] = 0;
  args.flags = req->clone_flags | CLONE_VM | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  args.pidfd = (uint64_t)(uintptr_t)pidfd_out;
  args.exit_signal = SIGCHLD;
  args.stack = (uint64_t)(uintptr_t)stack;
  args.stack_size = stack_size;
  if (req->cgroup_fd >= 0) {
    /* The child's first instruction already runs in the service's cgroup (v2 hierarchy). */
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)req->cgroup_fd;
  }

  /* No handler of the supervisor may run in the child before it resets them: block everything across clone3. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid = nsv_clone3_run(&args, sizeof args, child_main, req);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pid;
}
