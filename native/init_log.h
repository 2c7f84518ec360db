/* nsvisor-init's messages: tini's verbosity levels, and failures named by their step (steps.h) on stderr or the status pipe. */
#ifndef NSV_INIT_LOG_H
#define NSV_INIT_LOG_H

/* As tini: warnings (and fatal errors) on stderr, the rest on stdout; a message shows when its level <= the verbosity. */
enum init_level { INIT_WARN = 1, INIT_INFO = 2, INIT_DEBUG = 3, INIT_TRACE = 4 };

/* tini's default: 1, warnings only. -v adds one; TINI_VERBOSITY sets it. */
extern int init_verbosity;

void init_log(enum init_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "nsvisor-init: MESSAGE" on stderr, whatever the verbosity: usage errors and failures. */
void init_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the user reads for a step, e.g. "setpgid". */
const char *step_name(int step);

/* A failed step: an ERROR record on the status pipe when there is one (the supervisor words it), else
   "nsvisor-init: STEP(SUBJECT): strerror" on stderr. subject may be NULL. */
void report_step(int status_fd, int step, const char *subject, int err);

#endif
