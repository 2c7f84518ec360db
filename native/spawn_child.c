/* The clone child, from clone3 to execveat(nsvisor-init): signals, the go byte, ids, fds, time, names, lo; raw system calls only. */
#define _GNU_SOURCE
#include "spawn_child.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "rawsys.h"
#include "steps.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Returned instead of -errno when the supervisor gave up or is gone: nobody is left to read a report. */
#define GIVE_UP 1

#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl nsv_clone3_run\n"
    ".hidden nsv_clone3_run\n"
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
    ".hidden nsv_clone3_run\n"
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

/* The kernel's struct sigaction (not libc's). */
struct kernel_sigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};

/* CLONE_CLEAR_SIGHAND reset the handlers, but ignored signals (Node ignores SIGPIPE) stay ignored: reset all. */
static long reset_signals(struct nsv_where *w) {
  struct kernel_sigaction act = {SIG_DFL, 0, 0, 0};
  uint64_t empty = 0;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    NSV_CHECK(w, STEP_SIGNALS, nsv_sys4(SYS_rt_sigaction, sig, &act, 0, sizeof act.mask));
  }
  NSV_CHECK(w, STEP_SIGMASK, nsv_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, sizeof empty));
  return 0;
}

/* The supervisor writes our id maps, cgroup and network, then says go. EOF: it gave up or died. */
static long wait_for_go(const struct nsv_spawn_req *req, struct nsv_where *w) {
  char go;
  long r;
  /* While we hold the write end ourselves, its EOF could never come. */
  NSV_CHECK(w, STEP_CLOSE_PIPE_ENDS, nsv_sys1(SYS_close, req->sync_write_fd));
  NSV_CHECK(w, STEP_CLOSE_PIPE_ENDS, nsv_sys1(SYS_close, req->status_read_fd));
  NSV_CHECK(w, STEP_PDEATHSIG, nsv_sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL));
  do r = nsv_sys3(SYS_read, req->sync_fd, &go, 1);
  while (r == -EINTR);
  NSV_CHECK(w, STEP_SYNC, r);
  return r == 1 ? 0 : GIVE_UP;
}

static long change_ids(const struct nsv_spawn_req *req, struct nsv_where *w) {
  if (req->clear_groups) NSV_CHECK(w, STEP_CLEAR_GROUPS, nsv_sys2(SYS_setgroups, 0, 0));
  if (req->become_root) {
    /* We still carry the creator's ids, unmapped here; root of the new namespace is who we must be. */
    NSV_CHECK(w, STEP_BECOME_ROOT_GID, nsv_sys3(SYS_setresgid, 0, 0, 0));
    NSV_CHECK(w, STEP_BECOME_ROOT, nsv_sys3(SYS_setresuid, 0, 0, 0));
  }
  return 0;
}

/* A change of ids clears PDEATHSIG: arm it again, then make sure the supervisor did not die before that. getppid()
   cannot tell (it is 0 in a new pid namespace); our end of the status pipe polls POLLERR once the reader is gone. */
static long still_supervised(int status_fd, struct nsv_where *w) {
  struct pollfd pipe_end = {status_fd, 0, 0};
  struct timespec no_wait = {0, 0};
  NSV_CHECK(w, STEP_PDEATHSIG_REARM, nsv_sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL));
  NSV_CHECK(w, STEP_SUPERVISOR_CHECK, nsv_sys5(SYS_ppoll, &pipe_end, 1, &no_wait, 0, 8));
  return (pipe_end.revents & POLLERR) ? GIVE_UP : 0;
}

/* Moves stdio, the passed fds, the status pipe and init's fd to 0, 1, ... and closes everything else. *status_fd
   names the status pipe whichever call fails: its old number until the first dup3, then its copy above every
   number dup3 writes to, then its final number. */
static long arrange_fds(const struct nsv_spawn_req *req, struct nsv_where *w, int *status_fd, int *init_fd) {
  int n = 3 + req->n_pass_fds + 2;
  int src[3 + NSV_MAX_PASS_FDS + 2], tmp[3 + NSV_MAX_PASS_FDS + 2];
  int i, base = n;
  for (i = 0; i < 3; i++) src[i] = req->stdio[i];
  for (i = 0; i < req->n_pass_fds; i++) src[3 + i] = req->pass_fds[i];
  src[n - 2] = req->status_fd;
  src[n - 1] = req->init_fd;
  for (i = 0; i < n; i++)
    if (src[i] >= base) base = src[i] + 1;
  for (i = 0; i < n; i++) {
    long r = nsv_sys3(SYS_fcntl, src[i], F_DUPFD_CLOEXEC, base);
    NSV_CHECK(w, STEP_FDS_DUP, r);
    tmp[i] = (int)r;
  }
  *status_fd = tmp[n - 2];
  for (i = 0; i < n; i++) NSV_CHECK(w, STEP_FDS, nsv_sys3(SYS_dup3, tmp[i], i, i == n - 1 ? O_CLOEXEC : 0));
  *status_fd = n - 2;
  *init_fd = n - 1;
  NSV_CHECK(w, STEP_CLOSE_RANGE, nsv_sys3(SYS_close_range, n, ~0U, 0));
  return 0;
}

/* Appends decimal v to buf at *pos. */
static void put_int(char *buf, unsigned long *pos, int64_t v) {
  char digits[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
  if (v < 0) buf[(*pos)++] = '-';
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (n) buf[(*pos)++] = digits[--n];
}

/* One line "CLOCK SEC NSEC" of /proc/PID/timens_offsets, or nothing for NSV_TIME_NONE. */
static long put_offset(char *buf, unsigned long *pos, int clock, const struct nsv_time_offset *o, struct nsv_where *w) {
  int64_t sec = o->sec, nsec = o->nsec;
  if (o->mode == NSV_TIME_NONE) return 0;
  if (o->mode == NSV_TIME_FROM_ZERO) {
    struct timespec now;
    NSV_CHECK(w, STEP_CLOCK, nsv_sys2(SYS_clock_gettime, clock, &now));
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

/* A time namespace of our own, entered by the first process we execute, with its clocks shifted. */
static long setup_time(const struct nsv_spawn_req *req, struct nsv_where *w) {
  char buf[128];
  unsigned long pos = 0;
  long fd, r;
  NSV_CHECK(w, STEP_UNSHARE_TIME, nsv_sys1(SYS_unshare, CLONE_NEWTIME));
  if ((r = put_offset(buf, &pos, CLOCK_MONOTONIC, &req->monotonic, w)) < 0) return r;
  if ((r = put_offset(buf, &pos, CLOCK_BOOTTIME, &req->boottime, w)) < 0) return r;
  if (pos == 0) return 0;
  fd = nsv_sys4(SYS_openat, AT_FDCWD, "/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC, 0);
  NSV_CHECK(w, STEP_OPEN_TIME_OFFSETS, fd);
  NSV_CHECK(w, STEP_TIME_OFFSETS, nsv_sys3(SYS_write, fd, buf, pos));
  NSV_CHECK(w, STEP_CLOSE_TIME_OFFSETS, nsv_sys1(SYS_close, fd));
  return 0;
}

static long loopback_up(struct nsv_where *w) {
  struct ifreq ifr;
  long fd = nsv_sys3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  NSV_CHECK(w, STEP_LOOPBACK_SOCKET, fd);
  for (unsigned long i = 0; i < sizeof ifr; i++) ((char *)&ifr)[i] = 0;
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  NSV_CHECK(w, STEP_LOOPBACK_FLAGS, nsv_sys3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  NSV_CHECK(w, STEP_LOOPBACK, nsv_sys3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr));
  NSV_CHECK(w, STEP_LOOPBACK_CLOSE, nsv_sys1(SYS_close, fd));
  return 0;
}

/* Everything between clone3 and nsvisor-init, in order; returns only on failure (-errno), or GIVE_UP. */
static long prepare_and_exec(const struct nsv_spawn_req *req, struct nsv_where *w, int *status_fd) {
  int init_fd = req->init_fd;
  long r;
  if ((r = reset_signals(w)) < 0) return r;
  if ((r = wait_for_go(req, w)) != 0) return r;
  if (req->new_session) NSV_CHECK(w, STEP_SETSID, nsv_sys0(SYS_setsid));
  if ((r = change_ids(req, w)) < 0) return r;
  if ((r = still_supervised(*status_fd, w)) != 0) return r;
  if ((r = arrange_fds(req, w, status_fd, &init_fd)) < 0) return r;
  if (req->unshare_time && (r = setup_time(req, w)) < 0) return r;
  if (req->unshare_cgroup) NSV_CHECK(w, STEP_UNSHARE_CGROUP, nsv_sys1(SYS_unshare, CLONE_NEWCGROUP));
  if (req->hostname) NSV_CHECK(w, STEP_HOSTNAME, nsv_sys2(SYS_sethostname, req->hostname, nsv_str_len(req->hostname)));
  if (req->domainname) NSV_CHECK(w, STEP_DOMAINNAME, nsv_sys2(SYS_setdomainname, req->domainname, nsv_str_len(req->domainname)));
  if (req->loopback_up && (r = loopback_up(w)) < 0) return r;
  if ((r = nsv_child_mounts(req, w)) < 0) return r;
  if (req->cwd) NSV_CHECK(w, STEP_CWD, nsv_sys1(SYS_chdir, req->cwd));
  r = nsv_sys5(SYS_execveat, init_fd, "", req->argv, req->envp, AT_EMPTY_PATH);
  w->step = STEP_EXEC_INIT;
  return r;
}

int nsv_child_main(void *arg) {
  const struct nsv_spawn_req *req = arg;
  struct nsv_where w = {STEP_SIGNALS, -1};
  int status_fd = req->status_fd;
  long r = prepare_and_exec(req, &w, &status_fd);
  if (r < 0) {
    struct nsv_record rec = {NSV_REC_ERROR, w.step, (int32_t)-r, w.index};
    /* Nothing is left to tell if this write fails too: the exit code says it. */
    (void)nsv_sys3(SYS_write, status_fd, &rec, sizeof rec);
  }
  return 125;
}
