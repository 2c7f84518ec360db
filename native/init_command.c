/* The main process: process group and terminal, signals, parent-death signal, ids, capabilities, no_new_privs, seccomp, execve. */
#define _GNU_SOURCE
#include "init_command.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init_log.h"
#include "steps.h"

__attribute__((noreturn)) static void fail(const struct command_start *c, int step, int err, int code) {
  char failed = 1;
  report_step(c->o->status_fd, step, step == STEP_EXEC ? c->o->command[0] : NULL, err);
  /* The byte is lost only when init is gone too, and then nobody waits for it. */
  ssize_t told = c->exec_fd >= 0 ? write(c->exec_fd, &failed, 1) : 0;
  (void)told;
  _exit(code);
}

/* A supervised command dies with init: PR_SET_PDEATHSIG, which the kernel clears at every change of our
   effective ids, so it is armed again after each; and if init died before it was armed, we are an orphan already. */
static void die_with_init(const struct command_start *c) {
  if (!c->o->supervised) return;
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail(c, STEP_COMMAND_PDEATHSIG, errno, 125);
  if (getppid() != c->init_pid) fail(c, STEP_PARENT_CHANGED, ESRCH, 125);
}

/* Its own process group, and the foreground of our terminal if stdin is one. SIGTTOU is still blocked and
   ignored here, so even a background init may hand the terminal over. */
static void own_process_group(const struct command_start *c) {
  if (setpgid(0, 0) < 0) fail(c, STEP_SETPGID, errno, 125);
  /* ENOTTY: not our controlling terminal (or none); ENXIO: a terminal that is gone. Both leave nothing to do. */
  if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY && errno != ENXIO)
    fail(c, STEP_TCSETPGRP, errno, 125);
}

/* Drops every capability outside caps from the bounding set, so not even an exec as root or of a file with
   capabilities can get it back. Stops at the first number the kernel does not know. Returns the failing errno or 0. */
static int drop_bounding_set(uint64_t caps) {
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) return errno == EINVAL ? 0 : errno;
    if (!(caps >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return errno;
  }
  return 0;
}

/* After the ids are final: permitted, effective and inheritable become caps. A process that is not root loses
   them at exec unless they are ambient too: with `ambient` (a set given for it) they are raised as ambient; without
   (the default set) they only bound what it may get back. Returns the failed step or 0. */
static int set_capabilities(uint64_t caps, int ambient) {
  struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) data[i].effective = data[i].permitted = data[i].inheritable = (uint32_t)(caps >> (32 * i));
  if (syscall(SYS_capset, &head, data) < 0) return STEP_CAPSET;
  if (getuid() == 0 || !ambient) return 0;
  for (int cap = 0; cap < 64; cap++)
    if ((caps >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return STEP_CAP_AMBIENT;
  return 0;
}

static void install_seccomp(const struct command_start *c) {
  int err = nsv_seccomp_install(c->seccomp);
  if (err) fail(c, STEP_SECCOMP, err, 125);
}

/* The filter goes on last before execve when no_new_privs is set; without it the kernel requires CAP_SYS_ADMIN, so
   it goes on before the ids and capabilities change (as runc does), and they and execve must pass it. */
static void set_identity(const struct command_start *c) {
  const struct init_options *o = c->o;
  int filter = c->seccomp->len > 0;
  if (o->limit_caps) {
    int err = drop_bounding_set(o->caps);
    if (err) fail(c, STEP_CAP_BOUND, err, 125);
    /* Keep the permitted set through setuid to a user that is not root; set_capabilities trims it. */
    if (o->uid > 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(c, STEP_KEEPCAPS, errno, 125);
  }
  if (filter && !o->no_new_privs) install_seccomp(c);
  if (o->gid >= 0) {
    gid_t g = (gid_t)o->gid;
    if (setgroups(1, &g) < 0) fail(c, STEP_SETGROUPS, errno, 125);
    if (setgid(g) < 0) fail(c, STEP_SETGID, errno, 125);
    die_with_init(c);
  }
  if (o->uid >= 0) {
    if (setuid((uid_t)o->uid) < 0) fail(c, STEP_SETUID, errno, 125);
    die_with_init(c);
  }
  if (o->limit_caps) {
    int step = set_capabilities(o->caps, o->ambient);
    if (step) fail(c, step, errno, 125);
  }
  if (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(c, STEP_NO_NEW_PRIVS, errno, 125);
  if (filter && o->no_new_privs) install_seccomp(c);
}

void run_command(const struct command_start *c) {
  const struct init_options *o = c->o;
  die_with_init(c);
  own_process_group(c);
  int step = managed(o) ? default_signals() : restore_caller_signals(c->saved);
  if (step) fail(c, step, errno, 125);
  set_identity(c);
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  if (o->listen_fds > 0 && setenv("LISTEN_PID", pid, 1) < 0) fail(c, STEP_SETENV, errno, 125);
  /* health.watchdog: WATCHDOG_PID names the main process, as systemd sets it, so sd_watchdog_enabled() answers yes. */
  if (managed(o) && getenv("WATCHDOG_USEC") && setenv("WATCHDOG_PID", pid, 1) < 0) fail(c, STEP_SETENV, errno, 125);
  execvp(o->command[0], o->command);
  fail(c, STEP_EXEC, errno, errno == ENOENT ? 127 : 126);
}
