/* `--join PID`: setns into every namespace of PID that differs from ours, through a pidfd (nsenter -a -t PID). */
#define _GNU_SOURCE
#include "init_join.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rawsys.h"
#include "steps.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The namespaces of pid that differ from ours, as CLONE_NEW* flags (setns refuses to re-enter our own user ns).
   A type this kernel does not have (no /proc/self/ns/time before 5.6) is skipped. Returns -1 on a failed stat. */
static int differing_namespaces(pid_t pid) {
  static const struct { const char *name; int flag; } types[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},       {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
      {"net", CLONE_NEWNET},   {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
  };
  int flags = 0;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char theirs[64], ours[64];
    struct stat a, b;
    snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", (int)pid, types[i].name);
    snprintf(ours, sizeof ours, "/proc/self/ns/%s", types[i].name);
    if (stat(ours, &b) < 0) {
      if (errno == ENOENT) continue;
      return -1;
    }
    if (stat(theirs, &a) < 0) return -1;
    if (a.st_ino != b.st_ino || a.st_dev != b.st_dev) flags |= types[i].flag;
  }
  return flags;
}

int join_namespaces(pid_t pid) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return STEP_JOIN_PIDFD;
  int flags = differing_namespaces(pid);
  if (flags < 0) return STEP_JOIN_NS_INFO;
  if (flags && setns(pidfd, flags) < 0) return STEP_JOIN_SETNS;
  if (close(pidfd) < 0) return STEP_INIT_CLOSE;
  if (!(flags & CLONE_NEWUSER)) return 0;
  /* EINVAL: 0 is not mapped in that namespace; we stay who we are there, as the service's init did. */
  if (setresgid(0, 0, 0) < 0) return errno == EINVAL ? 0 : STEP_JOIN_IDS;
  return setresuid(0, 0, 0) < 0 ? STEP_JOIN_IDS : 0;
}
