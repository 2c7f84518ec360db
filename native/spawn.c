/* The parent side of the clone path: the child's guarded stack, and clone3 with CLONE_VM into fresh namespaces (native/spawn_child.c runs there). */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spawn_child.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

long nsv_stack_map(struct nsv_stack *stack, unsigned long size) {
  unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
  char *map = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  memset(stack, 0, sizeof *stack);
  if (map == MAP_FAILED) return -errno;
  /* The stack grows down: the guard is its lowest page. */
  if (mprotect(map, page, PROT_NONE) < 0) {
    int err = errno;
    munmap(map, size + page);
    return -err;
  }
  stack->map = map;
  stack->map_size = size + page;
  stack->base = map + page;
  stack->size = size;
  return 0;
}

void nsv_stack_unmap(struct nsv_stack *stack) {
  if (stack->map) munmap(stack->map, stack->map_size);
  memset(stack, 0, sizeof *stack);
}

long nsv_spawn_start(struct nsv_spawn_req *req, const struct nsv_stack *stack, int *pidfd_out) {
  struct clone_args args;
  sigset_t all, old;
  long pid;
  memset(&args, 0, sizeof args);
  args.flags = req->clone_flags | CLONE_VM | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  args.pidfd = (uint64_t)(uintptr_t)pidfd_out;
  args.exit_signal = SIGCHLD;
  args.stack = (uint64_t)(uintptr_t)stack->base;
  args.stack_size = stack->size;
  if (req->cgroup_fd >= 0) {
    /* The child's first instruction already runs in the service's cgroup (v2 hierarchy). */
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)req->cgroup_fd;
  }

  /* No handler of the supervisor may run in the child before it resets them: block everything across clone3. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid = nsv_clone3_run(&args, sizeof args, nsv_child_main, req);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return pid;
}
