/* nsvisor-init: PID 1 of a service's pid namespace (or a subreaper): forwards signals to the main process, reaps orphans, drains, exits with the main process's status. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp_load.h"
#include "steps.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define MAX_EXPECTED 32

struct options {
  int process_group;          /* -g: forward to the main process's group */
  int expected[MAX_EXPECTED]; /* -e CODE: exit codes reported as 0 */
  int n_expected;
  int status_fd;              /* --status-fd N: records for the supervisor, or -1 */
  int listen_fds;             /* --listen-fds N: fds 3.. that belong to the main process */
  int stop_signal;            /* --stop-signal N: what the drain sends */
  long drain_ms;              /* --drain MS */
  int supervised;             /* --supervised: die with the supervisor */
  long uid, gid;              /* --uid / --gid, -1 = keep */
  long join_pid;              /* --join PID: enter the namespaces of PID first (nsvisor exec), 0 = no */
  int limit_caps;             /* --caps MASK given: the main process keeps only caps */
  uint64_t caps;              /* bit N = capability N */
  int no_new_privs;           /* --no-new-privs */
  int seccomp_fd;             /* --seccomp-fd N: read the filter from N at startup, or -1 */
  struct nsv_seccomp seccomp; /* what was read: installed in the main process before execve */
  char **command;
};

static const char *prog = "nsvisor-init";

static void usage(void) {
  fprintf(stderr,
          "usage: %s [-g] [-e CODE]... [--drain MS] [--stop-signal N] [--uid U] [--gid G] [--caps HEX] [--no-new-privs]\n"
          "       [--seccomp-fd N] [--join PID] -- CMD [ARG...]\n"
          "  -g              forward signals to CMD's process group, not just CMD\n"
          "  -e CODE         report exit code CODE as 0 (repeatable)\n"
          "  --drain MS      after CMD exits, signal what is left and wait up to MS (default 5000)\n"
          "  --stop-signal N the signal the drain sends (default 15, SIGTERM)\n"
          "  --uid U --gid G run CMD with these ids\n"
          "  --caps HEX      CMD keeps only these capabilities (bit N = capability N; 0 = none), as root or not\n"
          "  --no-new-privs  set no_new_privs for CMD: setuid bits and file capabilities raise nothing\n"
          "  --seccomp-fd N  read a seccomp BPF program (struct sock_filter[]) from fd N; CMD runs under it\n"
          "  --join PID      first enter the namespaces of PID (as nsenter -a -t PID)\n",
          prog);
  exit(2);
}

static long parse_long(const char *s, const char *what) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0') {
    fprintf(stderr, "%s: %s: expected a number, got \"%s\"\n", prog, what, s);
    exit(2);
  }
  return v;
}

static uint64_t parse_mask(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 16);
  if (errno || *s == '\0' || *end != '\0') {
    fprintf(stderr, "%s: %s: expected a hexadecimal mask, got \"%s\"\n", prog, what, s);
    exit(2);
  }
  return (uint64_t)v;
}

static void parse_options(int argc, char **argv, struct options *o) {
  int i;
  memset(o, 0, sizeof *o);
  o->status_fd = -1;
  o->stop_signal = SIGTERM;
  o->drain_ms = 5000;
  o->uid = o->gid = -1;
  o->seccomp_fd = -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--") == 0) { i++; break; }
    if (strcmp(a, "-g") == 0) { o->process_group = 1; continue; }
    if (strcmp(a, "--supervised") == 0) { o->supervised = 1; continue; }
    if (strcmp(a, "--no-new-privs") == 0) { o->no_new_privs = 1; continue; }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) usage();
    if (!next) usage();
    if (strcmp(a, "-e") == 0) {
      long v = parse_long(next, "-e");
      if (v < 0 || v > 255 || o->n_expected == MAX_EXPECTED) usage();
      o->expected[o->n_expected++] = (int)v;
    } else if (strcmp(a, "--status-fd") == 0) o->status_fd = (int)parse_long(next, a);
    else if (strcmp(a, "--listen-fds") == 0) o->listen_fds = (int)parse_long(next, a);
    else if (strcmp(a, "--stop-signal") == 0) o->stop_signal = (int)parse_long(next, a);
    else if (strcmp(a, "--drain") == 0) o->drain_ms = parse_long(next, a);
    else if (strcmp(a, "--uid") == 0) o->uid = parse_long(next, a);
    else if (strcmp(a, "--gid") == 0) o->gid = parse_long(next, a);
    else if (strcmp(a, "--join") == 0) o->join_pid = parse_long(next, a);
    else if (strcmp(a, "--seccomp-fd") == 0) o->seccomp_fd = (int)parse_long(next, a);
    else if (strcmp(a, "--caps") == 0) { o->caps = parse_mask(next, a); o->limit_caps = 1; }
    else usage();
    i++;
  }
  if (i >= argc) usage();
  o->command = argv + i;
}

static void report(int fd, int step, int err) {
  struct nsv_record rec = {NSV_REC_ERROR, step, err, -1};
  if (fd >= 0 && write(fd, &rec, sizeof rec) < 0) { /* the supervisor is gone; the exit code still tells */ }
}

/* In the main process before its exec: the error record for the supervisor, one byte that tells init it failed, exit. */
static void fail_main(int fd, int exec_fd, int step, int err, int code) {
  char failed = 1;
  report(fd, step, err);
  if (exec_fd >= 0 && write(exec_fd, &failed, 1) < 0) { /* init then reads EOF and sees the exit */ }
  _exit(code);
}

/* Drops every capability outside o->caps from the bounding set, so not even an exec as root or of a file with
   capabilities can get it back. Stops at the first number the kernel does not know. Returns the failing errno or 0. */
static int drop_bounding_set(const struct options *o) {
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) return errno == EINVAL ? 0 : errno;
    if (!(o->caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return errno;
  }
  return 0;
}

/* After the ids are final: permitted, effective and inheritable become o->caps. A process that is not root loses
   them at exec unless they are ambient too, so there they are raised as ambient. Returns the failed step or 0. */
static int set_capabilities(const struct options *o) {
  struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) data[i].effective = data[i].permitted = data[i].inheritable = (uint32_t)(o->caps >> (32 * i));
  if (syscall(SYS_capset, &head, data) < 0) return STEP_CAPSET;
  if (getuid() == 0) return 0;
  for (int cap = 0; cap < 64; cap++)
    if ((o->caps >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return STEP_CAP_AMBIENT;
  return 0;
}

/* The filter goes on last before execve when no_new_privs is set; without it the kernel requires CAP_SYS_ADMIN, so
   it goes on before the ids and capabilities change (as runc does), and they and execve must pass it. */
static void install_seccomp(const struct options *o, int exec_fd) {
  int err = nsv_seccomp_install(&o->seccomp);
  if (err) fail_main(o->status_fd, exec_fd, STEP_SECCOMP, err, 125);
}

/* The main process: ids, a clean signal state, its own process group (foreground of our terminal), exec.
   exec_fd is close-on-exec: init reads EOF from its pipe once the command runs. */
static void exec_main(const struct options *o, const sigset_t *saved, int exec_fd) {
  int fd = o->status_fd, code;
  /* Whatever started us may have ignored some (Node ignores SIGPIPE): the service starts from defaults. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGTTOU) signal(sig, SIG_DFL);
  if (setpgid(0, 0) == 0 && isatty(STDIN_FILENO)) {
    /* SIGTTOU is still blocked here, so a background init may hand the terminal over. */
    if (tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO && errno != EPERM)
      perror("nsvisor-init: tcsetpgrp");
  }
  signal(SIGTTOU, SIG_DFL);
  sigprocmask(SIG_SETMASK, saved, NULL);
  if (o->supervised) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (o->limit_caps) {
    int err = drop_bounding_set(o);
    if (err) fail_main(fd, exec_fd, STEP_CAP_BOUND, err, 125);
    /* Keep the permitted set through setuid to a user that is not root; set_capabilities trims it. */
    if (o->uid > 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail_main(fd, exec_fd, STEP_KEEPCAPS, errno, 125);
  }
  if (o->seccomp.len && !o->no_new_privs) install_seccomp(o, exec_fd);
  if (o->gid >= 0) {
    gid_t g = (gid_t)o->gid;
    if (setgroups(1, &g) < 0) fail_main(fd, exec_fd, STEP_SETGROUPS, errno, 125);
    if (setgid(g) < 0) fail_main(fd, exec_fd, STEP_SETGID, errno, 125);
  }
  if (o->uid >= 0 && setuid((uid_t)o->uid) < 0) fail_main(fd, exec_fd, STEP_SETUID, errno, 125);
  if (o->limit_caps) {
    int step = set_capabilities(o);
    if (step) fail_main(fd, exec_fd, step, errno, 125);
  }
  if (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail_main(fd, exec_fd, STEP_NO_NEW_PRIVS, errno, 125);
  if (o->seccomp.len && o->no_new_privs) install_seccomp(o, exec_fd);
  if (o->listen_fds > 0) {
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
  }
  execvp(o->command[0], o->command);
  code = errno == ENOENT ? 127 : 126;
  if (fd < 0) fprintf(stderr, "%s: execve(%s): %s\n", prog, o->command[0], strerror(errno));
  fail_main(fd, exec_fd, STEP_EXEC, errno, code);
}

/* The namespaces of pid that differ from ours, as CLONE_NEW* flags (setns refuses to re-enter our own user ns). */
static int differing_namespaces(long pid) {
  static const struct { const char *name; int flag; } types[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},     {"uts", CLONE_NEWUTS},   {"ipc", CLONE_NEWIPC},
      {"net", CLONE_NEWNET},   {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
  };
  int flags = 0;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char theirs[64], ours[64];
    struct stat a, b;
    snprintf(theirs, sizeof theirs, "/proc/%ld/ns/%s", pid, types[i].name);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", types[i].name);
    if (stat(theirs, &a) == 0 && stat(ours, &b) == 0 && a.st_ino != b.st_ino) flags |= types[i].flag;
  }
  return flags;
}

/* Enters every namespace of pid at once through its pidfd; our children are born in its pid and time namespaces. */
static void join_namespaces(long pid) {
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  int flags = differing_namespaces(pid);
  if (pidfd < 0 || (flags && setns(pidfd, flags) < 0)) {
    fprintf(stderr, "%s: %s(%ld): %s\n", prog, pidfd < 0 ? "pidfd_open" : "setns", pid, strerror(errno));
    exit(125);
  }
  close(pidfd);
  /* In a user namespace of its own, become its root (when root is mapped there), as the service's init did. */
  if ((flags & CLONE_NEWUSER) && setresgid(0, 0, 0) == 0) setresuid(0, 0, 0);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Sends sig to every process we still have: all of the namespace as its PID 1, else each child (orphans come to us as subreaper). */
static void signal_rest(int sig) {
  char path[64];
  if (getpid() == 1) {
    kill(-1, sig);
    return;
  }
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  FILE *f = fopen(path, "re");
  if (!f) return;
  int pid;
  while (fscanf(f, "%d", &pid) == 1) kill(pid, sig);
  fclose(f);
}

struct state {
  pid_t main_pid;
  int main_status;     /* wait status, valid once main_done */
  int main_done;
  int status_fd;       /* the supervisor's pipe while the service runs, or -1 */
  int32_t reaped;      /* orphans reaped and not reported yet */
};

/* Reaps every exited child; returns 1 when no child is left at all. */
static int reap(struct state *st) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      if (pid == st->main_pid) {
        st->main_status = status;
        st->main_done = 1;
      } else if (st->reaped < INT32_MAX) {
        st->reaped++;
      }
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    return pid < 0 && errno == ECHILD;
  }
}

/* One REAPED record for all the orphans reaped since the last one. The pipe does not block: when it is full,
   the count waits for the next record; when the supervisor is gone, reporting stops. */
static void report_reaped(struct state *st) {
  struct nsv_record rec = {NSV_REC_REAPED, st->reaped, 0, -1};
  if (st->status_fd < 0 || st->reaped == 0) return;
  if (write(st->status_fd, &rec, sizeof rec) == (ssize_t)sizeof rec) {
    st->reaped = 0;
  } else if (errno == EPIPE) {
    close(st->status_fd);
    st->status_fd = -1;
  }
}

/* How the main process ended, for the supervisor: the last record before we exit (lost only if the pipe is full). */
static void report_main_exit(const struct state *st) {
  int exited = WIFEXITED(st->main_status);
  struct nsv_record rec = {NSV_REC_MAIN_EXIT, exited ? WEXITSTATUS(st->main_status) : -1, exited ? 0 : WTERMSIG(st->main_status), -1};
  if (st->status_fd >= 0 && write(st->status_fd, &rec, sizeof rec) < 0) { /* the supervisor infers it from our code */ }
}

/* After the fork: waits until the main process has run its command (EOF) or failed (a byte). Keeps the status
   pipe, non-blocking, to report reaped orphans, once the command runs; else lets the supervisor read its end. */
static void await_exec(struct state *st, int exec_fd) {
  char failed;
  ssize_t n;
  struct nsv_record ok = {NSV_REC_EXEC_OK, 0, 0, -1};
  do n = read(exec_fd, &failed, 1); while (n < 0 && errno == EINTR);
  close(exec_fd);
  if (n == 0 && fcntl(st->status_fd, F_SETFL, fcntl(st->status_fd, F_GETFL) | O_NONBLOCK) == 0 &&
      write(st->status_fd, &ok, sizeof ok) == (ssize_t)sizeof ok)
    return;
  close(st->status_fd);
  st->status_fd = -1;
}

static void forward(const struct options *o, const struct state *st, int sig) {
  if (st->main_done) return;
  if (kill(o->process_group ? -st->main_pid : st->main_pid, sig) < 0 && errno != ESRCH)
    fprintf(stderr, "%s: forwarding signal %d: %s\n", prog, sig, strerror(errno));
}

static int exit_code(const struct options *o, int status) {
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  for (int i = 0; i < o->n_expected; i++)
    if (o->expected[i] == code) return 0;
  return code;
}

int main(int argc, char **argv) {
  struct options o;
  struct state st = {0, 0, 0, -1, 0};
  int exec_pipe[2] = {-1, -1};
  sigset_t all, saved;
  int sfd, none_left = 0, err;
  long drain_deadline = -1;

  parse_options(argc, argv, &o);
  if (o.join_pid > 0) join_namespaces(o.join_pid);
  if (o.status_fd >= 0) {
    struct nsv_record rec = {NSV_REC_INIT_STARTED, 0, 0, -1};
    fcntl(o.status_fd, F_SETFD, FD_CLOEXEC);
    if (write(o.status_fd, &rec, sizeof rec) < 0) return 125;
  }
  if (o.seccomp_fd >= 0 && (err = nsv_seccomp_read(o.seccomp_fd, &o.seccomp))) {
    report(o.status_fd, STEP_SECCOMP_READ, err);
    fprintf(stderr, "%s: --seccomp-fd %d: %s\n", prog, o.seccomp_fd, strerror(err));
    return 125;
  }
  if (o.supervised) prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) perror("nsvisor-init: PR_SET_CHILD_SUBREAPER");

  /* Every signal we can take arrives through the signalfd; faults stay synchronous. */
  sigfillset(&all);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGFPE);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGTRAP);
  sigdelset(&all, SIGSYS);
  sigdelset(&all, SIGABRT);
  sigprocmask(SIG_SETMASK, &all, &saved);
  signal(SIGTTIN, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);
  sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) { report(o.status_fd, STEP_INIT_FORK, errno); perror("nsvisor-init: signalfd"); return 125; }

  if (o.status_fd >= 0 && pipe2(exec_pipe, O_CLOEXEC) < 0) { report(o.status_fd, STEP_INIT_FORK, errno); perror("nsvisor-init: pipe2"); return 125; }
  st.main_pid = fork();
  if (st.main_pid < 0) { report(o.status_fd, STEP_INIT_FORK, errno); perror("nsvisor-init: fork"); return 125; }
  if (st.main_pid == 0) {
    if (exec_pipe[0] >= 0) close(exec_pipe[0]);
    exec_main(&o, &saved, exec_pipe[1]);
  }

  /* The main process holds what it needs; keep only the signalfd, stdio and the status pipe. */
  for (int fd = 3; fd < 3 + o.listen_fds; fd++) close(fd);
  if (o.status_fd >= 0) {
    close(exec_pipe[1]);
    st.status_fd = o.status_fd;
    await_exec(&st, exec_pipe[0]);
  }

  for (;;) {
    struct pollfd p = {sfd, POLLIN, 0};
    int timeout = -1;
    if (drain_deadline >= 0) {
      long left = drain_deadline - now_ms();
      if (left <= 0) {
        signal_rest(SIGKILL);
        drain_deadline = -1;
        continue;
      }
      timeout = (int)left;
    }
    if (!none_left && poll(&p, 1, timeout) > 0) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        /* A SIGPIPE of our own (the supervisor closed the status pipe) is not the service's business. */
        if (si.ssi_signo == SIGPIPE && si.ssi_pid == (uint32_t)getpid()) continue;
        if (si.ssi_signo != SIGCHLD) forward(&o, &st, (int)si.ssi_signo);
      }
    }
    int main_was_done = st.main_done;
    none_left = reap(&st);
    report_reaped(&st);
    if (!st.main_done) continue;
    if (none_left) break;
    if (!main_was_done) {
      /* The main process just ended: ask the rest to leave, give them the drain time, then kill. */
      signal_rest(o.stop_signal);
      drain_deadline = now_ms() + (o.drain_ms > 0 ? o.drain_ms : 0);
    }
  }
  report_main_exit(&st);
  return exit_code(&o, st.main_status);
}
