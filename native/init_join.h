/* `--join PID`: nsvisor-init enters every namespace of a running service's init before it forks (nsvisor exec). */
#ifndef NSV_INIT_JOIN_H
#define NSV_INIT_JOIN_H

#include <sys/types.h>

/* Enters the namespaces of pid that differ from ours, all at once through its pidfd; our children are born in its
   pid and time namespaces. In a user namespace of its own it becomes that namespace's root when root is mapped there.
   Returns 0, or the failed step (errno says why). */
int join_namespaces(pid_t pid);

#endif
