/* nsvisor-init's messages: tini-style levelled lines, errors on stderr, and step failures as status records. */
#define _GNU_SOURCE
#include "init_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "steps.h"

int init_verbosity = 1;

static const char *const step_names[STEP_COUNT] = {
#define NSV_STEP_NAME(id, name) [id] = name,
    NSV_STEPS(NSV_STEP_NAME)
#undef NSV_STEP_NAME
};

/* One write per message, straight to the fd: no stdio buffer a fork could duplicate or a crash could lose. */
static void emit(int fd, const char *prefix, const char *fmt, va_list ap) {
  char line[1024];
  int n = snprintf(line, sizeof line, "%s", prefix);
  if (n < 0) return;
  int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  if (m < 0) return;
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  /* Nowhere to say that saying something failed: stderr or stdout closed is the caller's choice. */
  if (write(fd, line, len) < 0) return;
}

void init_log(enum init_level level, const char *fmt, ...) {
  static const char *const names[] = {[INIT_WARN] = "WARN ", [INIT_INFO] = "INFO ", [INIT_DEBUG] = "DEBUG", [INIT_TRACE] = "TRACE"};
  char prefix[64];
  va_list ap;
  if ((int)level > init_verbosity) return;
  snprintf(prefix, sizeof prefix, "[%s nsvisor-init (%d)] ", names[level], (int)getpid());
  va_start(ap, fmt);
  emit(level == INIT_WARN ? STDERR_FILENO : STDOUT_FILENO, prefix, fmt, ap);
  va_end(ap);
}

void init_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit(STDERR_FILENO, "nsvisor-init: ", fmt, ap);
  va_end(ap);
}

const char *step_name(int step) {
  return step >= 0 && step < STEP_COUNT && step_names[step] ? step_names[step] : "unknown step";
}

void report_step(int status_fd, int step, const char *subject, int err) {
  struct nsv_record rec = {NSV_REC_ERROR, step, err, -1};
  if (status_fd < 0) {
    if (subject) init_error("%s(%s): %s", step_name(step), subject, strerror(err));
    else init_error("%s: %s", step_name(step), strerror(err));
    return;
  }
  /* A failed write means the supervisor is gone; our exit code still tells what happened. */
  if (write(status_fd, &rec, sizeof rec) != (ssize_t)sizeof rec) return;
}
