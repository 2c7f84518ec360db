/* nsvisor-init's signal state: what it takes over from its caller, and what the command gets back before its execve. */
#ifndef NSV_INIT_SIGNALS_H
#define NSV_INIT_SIGNALS_H

#include <signal.h>

/* The caller's mask and its dispositions of the two signals init itself changes (it ignores SIGTTIN and SIGTTOU). */
struct saved_signals {
  sigset_t mask;
  struct sigaction ttin, ttou;
};

/* Blocks every signal but the synchronous faults (they stay init's own), ignores SIGTTIN/SIGTTOU, opens a
   signalfd for the blocked set into *sfd. Returns 0 or the failed step (errno says why). */
int take_signals(struct saved_signals *saved, int *sfd);

/* In the command: the caller's mask and SIGTTIN/SIGTTOU dispositions back, as tini does; the others were never
   changed, so what the caller ignored stays ignored (nohup). Returns 0 or the failed step. */
int restore_caller_signals(const struct saved_signals *saved);

/* In the command of a service (or one joining it): every disposition at its default and an empty mask, whatever
   the process that started nsvisor (Node ignores SIGPIPE) had. Returns 0 or the failed step. */
int default_signals(void);

#endif
