/* The processes below nsvisor-init: signalling all of them (the drain, a supervisor's end), as PID 1 or as a subreaper. */
#ifndef NSV_INIT_PROCS_H
#define NSV_INIT_PROCS_H

#include <sys/types.h>

/* Sends sig to every process below us: as PID 1 all of the namespace (kill -1); otherwise each descendant found in
   /proc, each pinned by a pidfd and checked to be still below us before it is signalled. When this /proc is not
   of our pid namespace (we joined another's mount namespace, or there is none), only main can be reached; pass 0
   once it is gone. Returns how many were signalled (1 for kill -1), or -1 when /proc could not be read (errno). */
int signal_rest(int sig, pid_t main_pid);

#endif
