/* What the clone child's parts share (native/spawn_child.c, spawn_mounts.c), and the two entry points the parent uses. */
#ifndef NSV_SPAWN_CHILD_H
#define NSV_SPAWN_CHILD_H

#include <linux/sched.h>

#include "spawn.h"

/*
 * The child shares the supervisor's memory (CLONE_VM) until it executes nsvisor-init, while the supervisor's
 * other threads keep running. So it touches only its own stack and the request (which the supervisor keeps alive
 * until the child has executed or died) and calls the kernel directly: no libc (errno is the parent thread's,
 * its locks may be held), no allocation. These objects are built freestanding in a library of their own
 * (binding.gyp), with every symbol hidden, so that no call can go through the PLT into libc; a unit test reads
 * their symbol tables.
 */

/* Where the child failed: a step of native/steps.h and the mount it was working on (or -1). */
struct nsv_where {
  int step;
  int index;
};

/* Evaluates a system call once; on failure records `at_step` in *where and returns its -errno. */
#define NSV_CHECK(where, at_step, call) \
  do {                                  \
    long nsv_r_ = (call);               \
    if (nsv_r_ < 0) {                   \
      (where)->step = (at_step);        \
      return nsv_r_;                    \
    }                                   \
  } while (0)

#define NSV_HIDDEN __attribute__((visibility("hidden")))

/* The child's whole setup before execveat: runs clone3 with `args`, and in the child fn(arg) on the new stack,
   then exit(its result). Returns the child's pid (or -errno) in the parent. */
NSV_HIDDEN long nsv_clone3_run(struct clone_args *args, unsigned long size, int (*fn)(void *), void *arg);

/* The child's code: `req` is a struct nsv_spawn_req. Returns only on failure (the exit code, 125). */
NSV_HIDDEN int nsv_child_main(void *req);

/* Mounts of the request in order: propagation, carried trees taken, rootfs, each mount, pivot_root, carried
   trees put in place, read-only root. Returns 0 or -errno with *where set. */
NSV_HIDDEN long nsv_child_mounts(const struct nsv_spawn_req *req, struct nsv_where *where);

/* The length of a string, without libc. */
static inline unsigned long nsv_str_len(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

#endif
