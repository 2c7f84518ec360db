/* nsvisor-init's signal state: every catchable signal through a signalfd in init; the caller's state, or the defaults, in the command. */
#define _GNU_SOURCE
#include "init_signals.h"

#include <errno.h>
#include <sys/signalfd.h>

#include "steps.h"

int take_signals(struct saved_signals *saved, int *sfd) {
  static const int own[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT, SIGTTIN, SIGTTOU};
  struct sigaction ignore = {.sa_handler = SIG_IGN};
  sigset_t taken;
  sigfillset(&taken);
  for (unsigned i = 0; i < sizeof own / sizeof own[0]; i++) sigdelset(&taken, own[i]);
  if (sigprocmask(SIG_SETMASK, &taken, &saved->mask) < 0) return STEP_INIT_SIGMASK;
  /* A background init must not be stopped by its terminal when it writes or hands the terminal to the command. */
  sigemptyset(&ignore.sa_mask);
  if (sigaction(SIGTTIN, &ignore, &saved->ttin) < 0 || sigaction(SIGTTOU, &ignore, &saved->ttou) < 0) return STEP_INIT_SIGACTION;
  *sfd = signalfd(-1, &taken, SFD_CLOEXEC | SFD_NONBLOCK);
  return *sfd < 0 ? STEP_INIT_SIGNALFD : 0;
}

int restore_caller_signals(const struct saved_signals *saved) {
  if (sigaction(SIGTTIN, &saved->ttin, NULL) < 0 || sigaction(SIGTTOU, &saved->ttou, NULL) < 0) return STEP_COMMAND_SIGACTION;
  return sigprocmask(SIG_SETMASK, &saved->mask, NULL) < 0 ? STEP_COMMAND_SIGMASK : 0;
}

int default_signals(void) {
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigset_t none;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    /* EINVAL: SIGKILL, SIGSTOP and the real-time signals libc keeps for itself, which nobody can change. */
    if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &dfl, NULL) < 0 && errno != EINVAL) return STEP_COMMAND_SIGACTION;
  }
  sigemptyset(&none);
  return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? STEP_COMMAND_SIGMASK : 0;
}
