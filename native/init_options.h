/* nsvisor-init's command line and environment: tini's options and variables, and the ones nsvisor itself passes. */
#ifndef NSV_INIT_OPTIONS_H
#define NSV_INIT_OPTIONS_H

#include <stdint.h>
#include <sys/types.h>

struct init_options {
  /* tini's */
  int subreaper;           /* -s, TINI_SUBREAPER: register as a child subreaper */
  int parent_death_signal; /* -p SIGNAL: sent to nsvisor-init (which forwards it to CMD) when its parent dies; 0 none */
  int warn_on_reap;        /* -w: a warning for every orphan reaped */
  int process_group;       /* -g, TINI_KILL_PROCESS_GROUP: forward to CMD's process group */
  uint8_t expected[32];    /* -e CODE: bit CODE set = exit code CODE is reported as 0 */
  /* nsvisor's */
  long drain_ms;           /* --drain MS (default 5000) */
  int stop_signal;         /* --stop-signal SIG: what the drain sends first */
  int status_fd;           /* --status-fd N: records for the supervisor, or -1 */
  int listen_fds;          /* --listen-fds N (or LISTEN_FDS for our pid): fds 3.. belong to CMD */
  int supervised;          /* --supervised: started by the nsvisor supervisor */
  long uid, gid;           /* --uid / --gid, -1 = keep */
  pid_t join_pid;          /* --join PID: enter the namespaces of PID first (nsvisor exec), 0 = no */
  int limit_caps;          /* --caps MASK given: CMD keeps only caps */
  uint64_t caps;           /* bit N = capability N */
  int no_new_privs;        /* --no-new-privs */
  int ambient;             /* --ambient: the kept capabilities raised as ambient (for a CMD that is not root) */
  int seccomp_fd;          /* --seccomp-fd N: read a seccomp filter from N at startup, or -1 */
  long adopt_ms;           /* --adopt-timeout MS: how long the service outlives the supervisor; 0 = it ends with it */
  long stop_timeout_ms;    /* --stop-timeout MS: after the stop signal of an orphaned stop, SIGKILL this much later */
  int output_fds[2];       /* --output-fd N (twice at most): read ends of the service's output pipes, kept for adoption */
  int n_output_fds;
  int adopt_fd;            /* --adopt-socket N: the instance's listening unix socket, for a new supervisor, or -1 */
  char **command;
};

/* Fills o from argv and the environment. Exits when there is nothing to run: 0 after -h, -l or --version,
   1 after a usage error (tini's codes). */
void parse_options(int argc, char **argv, struct init_options *o);

/* Started by nsvisor for one of its own (a service, or a command joining one) rather than as tini would be. */
static inline int managed(const struct init_options *o) { return o->supervised || o->join_pid > 0; }

/* The signal named s ("SIGTERM", "TERM" or "15"), or 0 when s names none. */
int parse_signal(const char *s);

#endif
