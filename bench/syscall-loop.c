/* A syscall-heavy loop for bench/seccomp-cost.ts: N raw getppid or 1-byte reads of /dev/zero, timed with CLOCK_MONOTONIC; prints ns per call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: syscall-loop getppid|read N
 * getppid goes through syscall(2), so no libc cache can skip the kernel; read takes one byte of /dev/zero per call.
 * Prints one number: the nanoseconds per call, over the whole loop.
 */

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "getppid") != 0 && strcmp(argv[1], "read") != 0)) {
    fprintf(stderr, "usage: syscall-loop getppid|read N\n");
    return 2;
  }
  char *end;
  long n = strtol(argv[2], &end, 10);
  if (*end || n <= 0) {
    fprintf(stderr, "syscall-loop: N must be a positive count, got \"%s\"\n", argv[2]);
    return 2;
  }
  int reading = argv[1][0] == 'r';
  int fd = reading ? open("/dev/zero", O_RDONLY | O_CLOEXEC) : -1;
  if (reading && fd < 0) {
    fprintf(stderr, "syscall-loop: open /dev/zero: %s\n", strerror(errno));
    return 1;
  }
  char byte;
  double t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (reading) {
      if (read(fd, &byte, 1) != 1) {
        fprintf(stderr, "syscall-loop: read /dev/zero: %s\n", strerror(errno));
        return 1;
      }
    } else {
      syscall(SYS_getppid);
    }
  }
  double t1 = now_ns();
  printf("%.3f\n", (t1 - t0) / (double)n);
  return 0;
}
