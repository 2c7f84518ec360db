/* The processes below nsvisor-init: signalling all of them (the drain, a supervisor's end), as PID 1 or as a subreaper. */
#ifndef NSV_INIT_PROCS_H
#define NSV_INIT_PROCS_H

#include <sys/types.h>

/* Sends sig to every process below us: as PID 1 all of the namespace (kill -1); otherwise each descendant found in
   /proc, each pinned by a pidfd and checked to be still below us before it is signalled. Returns how many were
   signalled (1 for kill -1), or -1 (errno) when they cannot be listed: /proc unreadable, or not of our pid
   namespace (a mount namespace joined, or a rootfs without /proc). Then only the main process and its process
   group are signalled, while main_pid is unreaped (pass 0 once it is: its pid may be another's by then). */
int signal_rest(int sig, pid_t main_pid);

#endif
