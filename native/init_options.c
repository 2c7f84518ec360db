/* Parses nsvisor-init's command line the way tini's getopt loop does (bundled flags, -e3 or -e 3, options end at
   "--" or the first word that is not one) plus nsvisor's long options, then tini's environment variables. */
#define _GNU_SOURCE
#include "init_options.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init_license.h"
#include "init_log.h"

#ifndef NSV_VERSION
#error "NSV_VERSION (package.json's version) comes from binding.gyp"
#endif

static void usage(int fd) {
  dprintf(fd,
          "nsvisor-init %s: a tini-compatible init. It runs CMD as its child, forwards every signal it gets to CMD,\n"
          "reaps orphans and exits with CMD's status.\n"
          "\n"
          "Usage: nsvisor-init [OPTIONS] [--] CMD [ARG...]\n"
          "       nsvisor-init --version\n"
          "\n"
          "tini's options:\n"
          "  -h, --help       show this help and exit\n"
          "  -s               register as a child subreaper, so orphans come to nsvisor-init when it is not PID 1\n"
          "                   (it does so anyway while it drains, see --drain)\n"
          "  -p SIGNAL        have SIGNAL sent to nsvisor-init, and so forwarded to CMD, when its parent dies (-p SIGTERM)\n"
          "  -v               more verbose output: info (-v), debug (-vv) and trace (-vvv) lines\n"
          "  -w               print a warning for every orphan reaped\n"
          "  -g               forward signals to CMD's process group, not only to CMD\n"
          "  -e CODE          report exit code CODE (0-255) as 0; repeatable\n"
          "  -l               show the license and exit\n"
          "  --version        show the version and exit (only as the one argument)\n"
          "\n"
          "nsvisor's additions:\n"
          "  --drain MS       once CMD has exited, send the stop signal to every process left, wait up to MS\n"
          "                   milliseconds for them, then SIGKILL what remains (default 5000). --drain 0 turns\n"
          "                   this off and behaves exactly as tini: nsvisor-init exits as soon as CMD has, the\n"
          "                   rest is left to the kernel (as PID 1) or to the next reaper up, and it is a\n"
          "                   subreaper only with -s or TINI_SUBREAPER\n"
          "  --stop-signal S  the signal the drain sends first (default SIGTERM)\n"
          "  --uid U --gid G  run CMD with these ids\n"
          "  --caps HEX       CMD keeps only these capabilities (bit N = capability N; 0 = none)\n"
          "  --ambient        raise them as ambient too, so that a CMD that is not root keeps them across exec\n"
          "  --no-new-privs   set no_new_privs for CMD: setuid bits and file capabilities raise nothing\n"
          "  --seccomp-fd N   read a seccomp BPF program (struct sock_filter[]) from fd N; CMD runs under it\n"
          "  --join PID       first enter every namespace of PID (as nsenter -a -t PID; nsvisor exec)\n"
          "  --supervised, --status-fd N, --listen-fds N   set by the nsvisor supervisor\n"
          "  --adopt-timeout MS, --stop-timeout MS, --output-fd N, --adopt-socket N\n"
          "                   set by the supervisor: when it dies, keep CMD running MS milliseconds for a new\n"
          "                   one, reading the output pipes N meanwhile; then the stop signal, SIGKILL after the\n"
          "                   stop timeout; a new supervisor that connects to the socket N meanwhile takes over\n"
          "\n"
          "Environment:\n"
          "  TINI_SUBREAPER           when set (to anything), as -s\n"
          "  TINI_KILL_PROCESS_GROUP  when set (to anything), as -g\n"
          "  TINI_VERBOSITY=N         the verbosity (default 1: warnings); wins over -v\n"
          "  LISTEN_FDS, LISTEN_PID   socket activation for our pid: fds 3.. pass to CMD, whose pid becomes LISTEN_PID\n"
          "\n"
          "Exit status: CMD's; 128+N when signal N killed it; 0 for a code given with -e; 127 when CMD is not\n"
          "found, 126 when it cannot be executed; 1 for a usage error; 125 when nsvisor-init failed before CMD ran.\n",
          NSV_VERSION);
}

/* tini's answer to a bad command line: the reason, the usage when it helps, exit code 1. */
__attribute__((noreturn, format(printf, 2, 3))) static void usage_error(int show_usage, const char *fmt, ...) {
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  init_error("%s", reason);
  if (show_usage) usage(STDERR_FILENO);
  exit(1);
}

int parse_signal(const char *s) {
  char *end;
  const char *bare = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (*s && !*end && !errno) return n > 0 && n < NSIG ? (int)n : 0;
  for (int sig = 1; sig < NSIG; sig++) {
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev && *bare && strcmp(abbrev, bare) == 0) return sig;
  }
  return 0;
}

static long parse_number(const char *option, const char *value, long min, long max) {
  char *end;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (errno || !*value || *end || v < min || v > max) usage_error(0, "%s %s: expected a number from %ld to %ld", option, value, min, max);
  return v;
}

static uint64_t parse_mask(const char *option, const char *value) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(value, &end, 16);
  if (errno || !*value || *end || *value == '-') usage_error(0, "%s %s: expected a hexadecimal mask", option, value);
  return (uint64_t)v;
}

static void add_expected(struct init_options *o, const char *value) {
  char *end;
  errno = 0;
  long code = strtol(value, &end, 10);
  if (errno || !*value || *end || code < 0 || code > 255) usage_error(0, "-e %s: expected an exit code from 0 to 255", value);
  o->expected[code / 8] |= (uint8_t)(1u << (code % 8));
}

static void set_parent_death_signal(struct init_options *o, const char *value) {
  o->parent_death_signal = parse_signal(value);
  if (!o->parent_death_signal) usage_error(0, "-p %s: expected a signal such as SIGTERM or SIGKILL", value);
}

/* One word of single-letter options (-vvv, -sg, -e3, -e 3); returns the index of the last word it used. */
static int parse_short(int argc, char **argv, int i, struct init_options *o) {
  for (const char *p = argv[i] + 1; *p; p++) {
    const char c = *p;
    if (c == 'e' || c == 'p') {
      const char *value = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
      if (!value) usage_error(1, "option -%c needs a value", c);
      if (c == 'e') add_expected(o, value);
      else set_parent_death_signal(o, value);
      return i;
    }
    switch (c) {
      case 's': o->subreaper = 1; break;
      case 'v': init_verbosity++; break;
      case 'w': o->warn_on_reap = 1; break;
      case 'g': o->process_group = 1; break;
      case 'h': usage(STDOUT_FILENO); exit(0);
      case 'l':
        if (write(STDOUT_FILENO, init_license, strlen(init_license)) < 0) exit(1);
        exit(0);
      default: usage_error(1, "unknown option -%c", c);
    }
  }
  return i;
}

/* One --name, --name VALUE or --name=VALUE; returns the index of the last word it used. */
static int parse_long(int argc, char **argv, int i, struct init_options *o) {
  char name[64];
  const char *word = argv[i], *eq = strchr(word, '=');
  size_t len = eq ? (size_t)(eq - word) : strlen(word);
  if (len >= sizeof name) usage_error(1, "unknown option %s", word);
  memcpy(name, word, len);
  name[len] = '\0';
  if (!strcmp(name, "--help") && !eq) { usage(STDOUT_FILENO); exit(0); }
  if (!strcmp(name, "--supervised") && !eq) { o->supervised = 1; return i; }
  if (!strcmp(name, "--no-new-privs") && !eq) { o->no_new_privs = 1; return i; }
  if (!strcmp(name, "--ambient") && !eq) { o->ambient = 1; return i; }
  static const char *const with_value[] = {"--status-fd", "--listen-fds", "--stop-signal", "--drain", "--uid", "--gid", "--join", "--caps", "--seccomp-fd",
                                             "--adopt-timeout", "--stop-timeout", "--output-fd",
                                             "--adopt-socket"};
  int known = 0;
  for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) known |= !strcmp(name, with_value[k]);
  if (!known) usage_error(1, "unknown option %s", word);
  const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
  if (!v) usage_error(1, "option %s needs a value", name);
  if (!strcmp(name, "--status-fd")) o->status_fd = (int)parse_number(name, v, 0, 65535);
  else if (!strcmp(name, "--listen-fds")) o->listen_fds = (int)parse_number(name, v, 0, 65535);
  else if (!strcmp(name, "--drain")) o->drain_ms = parse_number(name, v, 0, 86400000L);
  else if (!strcmp(name, "--uid")) o->uid = parse_number(name, v, 0, 4294967294L);
  else if (!strcmp(name, "--gid")) o->gid = parse_number(name, v, 0, 4294967294L);
  else if (!strcmp(name, "--join")) o->join_pid = (pid_t)parse_number(name, v, 1, 4194304L);
  else if (!strcmp(name, "--caps")) { o->caps = parse_mask(name, v); o->limit_caps = 1; }
  else if (!strcmp(name, "--seccomp-fd")) o->seccomp_fd = (int)parse_number(name, v, 0, 65535);
  else if (!strcmp(name, "--adopt-timeout")) o->adopt_ms = parse_number(name, v, 0, 86400000L);
  else if (!strcmp(name, "--stop-timeout")) o->stop_timeout_ms = parse_number(name, v, 0, 86400000L);
  else if (!strcmp(name, "--adopt-socket")) o->adopt_fd = (int)parse_number(name, v, 3, 65535);
  else if (!strcmp(name, "--output-fd")) {
    if (o->n_output_fds == 2) usage_error(0, "--output-fd %s: at most two (stdout's and stderr's pipes)", v);
    o->output_fds[o->n_output_fds++] = (int)parse_number(name, v, 3, 65535);
  }
  else if (!(o->stop_signal = parse_signal(v))) usage_error(0, "--stop-signal %s: expected a signal such as SIGTERM or 15", v);
  return i;
}

/* tini's variables; then socket activation meant for our pid (sd_listen_fds' rule), when nsvisor did not say. */
static void parse_environment(struct init_options *o) {
  const char *verbosity = getenv("TINI_VERBOSITY");
  if (getenv("TINI_SUBREAPER")) o->subreaper = 1;
  if (getenv("TINI_KILL_PROCESS_GROUP")) o->process_group = 1;
  /* atoi, as tini: an image that starts under tini (TINI_VERBOSITY= or junk means 0) starts under us. */
  if (verbosity) init_verbosity = atoi(verbosity);
  const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
  if (o->supervised || o->listen_fds || !fds || !pid) return;
  char *end;
  long n = strtol(fds, &end, 10), owner = strtol(pid, NULL, 10);
  if (*fds && !*end && n > 0 && n < 65536 && owner == (long)getpid()) o->listen_fds = (int)n;
}

void parse_options(int argc, char **argv, struct init_options *o) {
  int i;
  memset(o, 0, sizeof *o);
  o->status_fd = o->seccomp_fd = o->adopt_fd = -1;
  o->stop_signal = SIGTERM;
  o->drain_ms = 5000;
  o->stop_timeout_ms = 10000;
  o->uid = o->gid = -1;
  /* As tini: --version only as the one argument; anywhere else it is an unknown option. */
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("nsvisor-init version %s\n", NSV_VERSION);
    exit(fflush(stdout) == 0 ? 0 : 1);
  }
  for (i = 1; i < argc; i++) {
    const char *word = argv[i];
    if (!strcmp(word, "--")) { i++; break; }
    if (word[0] != '-' || word[1] == '\0') break; /* CMD */
    i = word[1] == '-' ? parse_long(argc, argv, i, o) : parse_short(argc, argv, i, o);
  }
  parse_environment(o);
  if (i >= argc) usage_error(1, "missing the command to run");
  o->command = argv + i;
}
