/* The prepared request that the supervisor hands to the clone child: every string resolved and every decision made before clone3. */
#ifndef NSV_SPAWN_H
#define NSV_SPAWN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(id, value, name): the kinds of mount, exported to JavaScript by name (addon.mountKinds).
   SYSFS: a fresh read-only sysfs at target, listing the new network namespace's devices; the mounts under
   `source` (the host's /sys/fs/cgroup) are carried over to `data` (the same place under the new sysfs).
   DEVPTS: a new devpts instance at target with options `data`, and `source` made a symlink to pts/ptmx.
   CARRY: the host's mount at `source` (e.g. a socket file), cloned with open_tree before any other mount and
   moved onto `target`, a path inside the final root, after all of them (and after pivot_root): nothing mounted
   over its parents can hide it. */
#define NSV_MOUNT_KINDS(X)      \
  X(NSV_MOUNT_BIND, 1, "bind")  \
  X(NSV_MOUNT_TMPFS, 2, "tmpfs") \
  X(NSV_MOUNT_PROC, 3, "proc")  \
  X(NSV_MOUNT_MQUEUE, 4, "mqueue") \
  X(NSV_MOUNT_SYSFS, 5, "sysfs") \
  X(NSV_MOUNT_DEVPTS, 6, "devpts") \
  X(NSV_MOUNT_CARRY, 7, "carry")

/* X(id, value, name): what to create at a missing mount target (addon.createKinds). */
#define NSV_CREATE_KINDS(X)            \
  X(NSV_CREATE_NEVER, 0, "never")      \
  X(NSV_CREATE_DIRECTORY, 1, "directory") \
  X(NSV_CREATE_FILE, 2, "file")

/* X(id, value, name): how a clock of a new time namespace is shifted (addon.timeModes). */
#define NSV_TIME_MODES(X)            \
  X(NSV_TIME_NONE, 0, "none")        \
  X(NSV_TIME_OFFSET, 1, "offset")    \
  X(NSV_TIME_FROM_ZERO, 2, "fromZero")

#define NSV_ENUM_VALUE(id, value, name) id = value,
enum nsv_mount_kind { NSV_MOUNT_KINDS(NSV_ENUM_VALUE) };
enum nsv_create_kind { NSV_CREATE_KINDS(NSV_ENUM_VALUE) };
enum nsv_time_mode { NSV_TIME_MODES(NSV_ENUM_VALUE) };
#undef NSV_ENUM_VALUE

/* Limits the addon checks, so the child can size its arrays on its stack. */
#define NSV_MAX_PASS_FDS 64
#define NSV_MAX_CARRIED 4

struct nsv_mount {
  int kind;             /* enum nsv_mount_kind */
  const char *source;   /* host path for binds, fs name otherwise */
  const char *target;   /* absolute path as seen before pivot_root (rootfs already prefixed); CARRY: inside */
  const char *data;     /* mount options string (tmpfs size/mode), or NULL */
  int readonly;
  int create;           /* enum nsv_create_kind: what to create at the target when it is missing */
};

struct nsv_time_offset {
  int mode;             /* enum nsv_time_mode */
  int64_t sec;          /* for NSV_TIME_OFFSET */
  int64_t nsec;         /* 0 <= nsec < 1e9 */
};

struct nsv_spawn_req {
  uint64_t clone_flags;       /* CLONE_NEW* set at clone time (never NEWTIME or NEWCGROUP) */
  int unshare_time;           /* unshare(CLONE_NEWTIME) after the go, then write the offsets */
  struct nsv_time_offset monotonic, boottime;
  int unshare_cgroup;         /* unshare(CLONE_NEWCGROUP) after the go (the supervisor placed us by then) */
  int cgroup_fd;              /* -1, or a cgroup2 directory fd: clone3(CLONE_INTO_CGROUP) starts the child in it */
  int become_root;            /* new user ns with 0 mapped: setresgid/setresuid(0) once the maps are written */
  int clear_groups;           /* setgroups(0, NULL): drop the host's supplementary groups (setgroups allowed) */

  int sync_fd;                /* read end: one byte "go" from the supervisor, EOF = abort */
  int sync_write_fd;          /* the supervisor's end, closed in the child */
  int status_fd;              /* write end: records for the supervisor */
  int status_read_fd;         /* the supervisor's end, closed in the child */
  int stdio[3];               /* become 0, 1, 2 */
  const int *pass_fds;        /* become 3, 4, ... */
  int n_pass_fds;
  int new_session;            /* setsid(): the service gets no controlling terminal of ours */

  unsigned long propagation;  /* MS_PRIVATE / MS_SLAVE / MS_SHARED for / (recursive), 0 = leave */
  const char *rootfs;         /* NULL = keep the host root */
  int readonly_root;
  const struct nsv_mount *mounts;
  int n_mounts;

  const char *hostname;       /* NULL = leave */
  const char *domainname;
  int loopback_up;

  const char *cwd;            /* inside the final root */
  const char *init_path;      /* nsvisor-init, opened before pivot_root: executed by fd */
  int init_fd;                /* O_PATH fd of init_path, so it is found after pivot_root */
  char *const *argv;          /* init's argv (the service command after "--") */
  char *const *envp;          /* the service's environment */
};

/* The child's stack, with a PROT_NONE guard page below it: an overflow faults instead of writing into the heap it shares. */
struct nsv_stack {
  void *map;            /* the whole mapping, guard page included; NULL when none */
  unsigned long map_size;
  void *base;           /* lowest usable address */
  unsigned long size;
};

/* Maps a stack of `size` bytes (a multiple of the page size) and its guard page. Returns 0 or -errno. */
long nsv_stack_map(struct nsv_stack *stack, unsigned long size);
void nsv_stack_unmap(struct nsv_stack *stack);

/* Starts the child. On success returns its pid and stores a pidfd; on failure returns -errno. */
long nsv_spawn_start(struct nsv_spawn_req *req, const struct nsv_stack *stack, int *pidfd_out);

#ifdef __cplusplus
}
#endif

#endif
