/* The main process nsvisor-init forks: its signal state, process group, ids, capabilities, then execve of CMD. */
#ifndef NSV_INIT_COMMAND_H
#define NSV_INIT_COMMAND_H

#include <sys/types.h>

#include "init_options.h"
#include "init_signals.h"
#include "seccomp_load.h"

struct command_start {
  const struct init_options *o;
  const struct saved_signals *saved; /* the caller's, for a standalone start */
  const struct nsv_seccomp *seccomp; /* read from --seccomp-fd (len 0: none), installed before execve */
  int exec_fd;                       /* close-on-exec pipe to init: one byte = failed, EOF = CMD runs; or -1 */
  pid_t init_pid;                    /* our parent, as we see it: a supervised command dies with it */
};

/* Runs in the child of the fork: prepares it and executes CMD. Never returns: on a failure it reports the step
   (status pipe, or stderr), writes a byte to exec_fd and exits 125 (127 CMD not found, 126 not executable). */
__attribute__((noreturn)) void run_command(const struct command_start *c);

#endif
