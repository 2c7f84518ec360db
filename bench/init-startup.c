/* Startup latency of inits (bench/init-startup.ts): posix_spawn, exit, waitpid of each command line, interleaved, timed with CLOCK_MONOTONIC. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: init-startup ROUNDS SEED :: CMD [ARG...] [:: CMD [ARG...]]...
 * Each round runs every command line once, in an order shuffled by SEED, with stdio on /dev/null; a command must
 * exit 0. Prints one line per command line, in the order given: that many per-run nanoseconds.
 */

extern char **environ;

struct contender {
  char **argv;
  uint64_t *ns;
};

static void die(const char *what, int err) {
  fprintf(stderr, "init-startup: %s: %s\n", what, strerror(err));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) die("clock_gettime", errno);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One run: spawn, wait, the wall time in ns. */
static uint64_t run_once(char **argv, const posix_spawn_file_actions_t *quiet) {
  pid_t pid;
  int status;
  uint64_t t0 = now_ns();
  int err = posix_spawn(&pid, argv[0], quiet, NULL, argv, environ);
  if (err) die(argv[0], err);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid", errno);
  uint64_t t1 = now_ns();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "init-startup: %s ended with status 0x%x\n", argv[0], status);
    exit(1);
  }
  return t1 - t0;
}

/* xorshift32: a reproducible order per round. */
static uint32_t next_random(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

int main(int argc, char **argv) {
  struct contender list[16];
  int n = 0, order[16];
  if (argc < 5 || strcmp(argv[3], "::") != 0) {
    fprintf(stderr, "usage: init-startup ROUNDS SEED :: CMD [ARG...] [:: CMD [ARG...]]...\n");
    return 2;
  }
  long rounds = strtol(argv[1], NULL, 10);
  uint32_t seed = (uint32_t)strtoul(argv[2], NULL, 10) | 1u;
  if (rounds <= 0) die("ROUNDS", EINVAL);
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "::") != 0) continue;
    argv[i] = NULL; /* ends the previous command line */
    if (i + 1 >= argc || n == 16) die("a command line after ::", EINVAL);
    list[n].argv = argv + i + 1;
    if (!(list[n].ns = calloc((size_t)rounds, sizeof(uint64_t)))) die("calloc", errno);
    n++;
  }
  posix_spawn_file_actions_t quiet;
  if (posix_spawn_file_actions_init(&quiet)) die("posix_spawn_file_actions_init", errno);
  for (int fd = 0; fd < 3; fd++)
    if (posix_spawn_file_actions_addopen(&quiet, fd, "/dev/null", O_RDWR, 0)) die("posix_spawn_file_actions_addopen", errno);
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = (int)(next_random(&seed) % (uint32_t)(i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (int i = 0; i < n; i++) list[order[i]].ns[r] = run_once(list[order[i]].argv, &quiet);
  }
  for (int i = 0; i < n; i++) {
    for (long r = 0; r < rounds; r++) printf(r ? " %llu" : "%llu", (unsigned long long)list[i].ns[r]);
    printf("\n");
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
