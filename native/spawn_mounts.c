/* The clone child's mounts: propagation, rootfs and pivot_root, each kind of mount, and the trees carried in from the host. */
#define _GNU_SOURCE
#include "spawn_child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "rawsys.h"
#include "steps.h"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

struct nsv_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Creates what is missing of path: its parent directories, then path itself as a directory or an empty file.
   Whatever exists already is left as it is (EEXIST comes before EROFS, so a read-only mount is no obstacle). */
static long create_target(const char *path, int kind, struct nsv_where *w) {
  char buf[4096];
  unsigned long len = nsv_str_len(path), i;
  long r;
  if (len >= sizeof buf) {
    w->step = STEP_MKDIR;
    return -ENAMETOOLONG;
  }
  for (i = 0; i <= len; i++) buf[i] = path[i];
  for (i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    if (buf[i] == '\0' && kind == NSV_CREATE_FILE) break;
    buf[i] = '\0';
    r = nsv_sys3(SYS_mkdirat, AT_FDCWD, buf, 0755);
    buf[i] = path[i];
    if (r != -EEXIST) NSV_CHECK(w, STEP_MKDIR, r);
  }
  if (kind == NSV_CREATE_FILE) {
    r = nsv_sys4(SYS_mknodat, AT_FDCWD, path, S_IFREG | 0644, 0);
    if (r != -EEXIST) NSV_CHECK(w, STEP_CREATE_FILE, r);
  }
  return 0;
}

/* mount_setattr(MOUNT_ATTR_RDONLY) on path (relative to dirfd; "" with AT_EMPTY_PATH for a tree fd). */
static long make_readonly(int dirfd, const char *path, unsigned int flags) {
  struct nsv_mount_attr attr = {MOUNT_ATTR_RDONLY, 0, 0, 0};
  return nsv_sys5(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr);
}

/* Attaches a tree from open_tree at target and closes its fd. */
static long move_tree(long tree, const char *target, int move_step, struct nsv_where *w) {
  NSV_CHECK(w, move_step, nsv_sys5(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
  NSV_CHECK(w, STEP_CLOSE_TREE, nsv_sys1(SYS_close, tree));
  return 0;
}

/* sysfs shows the devices of the network namespace that mounts it; the cgroup mounts below the old /sys are
   cloned first and put back under the new one, so the service still finds its cgroup files. */
static long mount_sysfs(const struct nsv_mount *m, struct nsv_where *w) {
  long tree = nsv_sys3(SYS_open_tree, AT_FDCWD, m->source, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
  NSV_CHECK(w, STEP_CGROUP_CLONE, tree);
  NSV_CHECK(w, STEP_MOUNT, nsv_sys5(SYS_mount, "sysfs", m->target, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0));
  return move_tree(tree, m->data, STEP_CGROUP_MOVE, w);
}

static long mount_kind(const struct nsv_mount *m, struct nsv_where *w) {
  switch (m->kind) {
    case NSV_MOUNT_BIND:
      NSV_CHECK(w, STEP_MOUNT, nsv_sys5(SYS_mount, m->source, m->target, 0, MS_BIND | MS_REC, 0));
      return 0;
    case NSV_MOUNT_TMPFS:
      NSV_CHECK(w, STEP_MOUNT, nsv_sys5(SYS_mount, "tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV, m->data));
      return 0;
    case NSV_MOUNT_PROC:
      NSV_CHECK(w, STEP_MOUNT, nsv_sys5(SYS_mount, "proc", m->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0));
      return 0;
    case NSV_MOUNT_MQUEUE:
      NSV_CHECK(w, STEP_MOUNT, nsv_sys5(SYS_mount, "mqueue", m->target, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0));
      return 0;
    case NSV_MOUNT_SYSFS:
      return mount_sysfs(m, w);
    case NSV_MOUNT_DEVPTS:
      /* Its own pseudo-terminals: the ptys of the host's instance stay out of reach. */
      NSV_CHECK(w, STEP_MOUNT, nsv_sys5(SYS_mount, "devpts", m->target, "devpts", MS_NOSUID | MS_NOEXEC, m->data));
      NSV_CHECK(w, STEP_PTMX_LINK, nsv_sys3(SYS_symlinkat, "pts/ptmx", AT_FDCWD, m->source));
      return 0;
    default:
      w->step = STEP_MOUNT;
      return -EINVAL;
  }
}

static long mount_one(const struct nsv_mount *m, struct nsv_where *w) {
  long r;
  if (m->create != NSV_CREATE_NEVER && (r = create_target(m->target, m->create, w)) < 0) return r;
  if ((r = mount_kind(m, w)) < 0) return r;
  if (m->readonly) NSV_CHECK(w, STEP_MOUNT_READONLY, make_readonly(AT_FDCWD, m->target, AT_RECURSIVE));
  return 0;
}

/* Clones each CARRY mount's source while the host's tree is still in view; trees[j] for the j-th of them. */
static long take_carried(const struct nsv_spawn_req *req, long *trees, struct nsv_where *w) {
  int j = 0;
  for (int i = 0; i < req->n_mounts; i++) {
    const struct nsv_mount *m = &req->mounts[i];
    if (m->kind != NSV_MOUNT_CARRY) continue;
    w->index = i;
    long tree = nsv_sys3(SYS_open_tree, AT_FDCWD, m->source, OPEN_TREE_CLONE | O_CLOEXEC);
    NSV_CHECK(w, STEP_CARRY_CLONE, tree);
    if (m->readonly) NSV_CHECK(w, STEP_CARRY_READONLY, make_readonly((int)tree, "", AT_EMPTY_PATH));
    trees[j++] = tree;
  }
  w->index = -1;
  return 0;
}

/* Puts the carried trees in place, on top of everything mounted before, creating their targets where missing. */
static long place_carried(const struct nsv_spawn_req *req, const long *trees, struct nsv_where *w) {
  int j = 0;
  long r;
  for (int i = 0; i < req->n_mounts; i++) {
    const struct nsv_mount *m = &req->mounts[i];
    if (m->kind != NSV_MOUNT_CARRY) continue;
    w->index = i;
    if (m->create != NSV_CREATE_NEVER && (r = create_target(m->target, m->create, w)) < 0) return r;
    if ((r = move_tree(trees[j++], m->target, STEP_CARRY_MOVE, w)) < 0) return r;
  }
  w->index = -1;
  return 0;
}

static long enter_rootfs(const struct nsv_spawn_req *req, struct nsv_where *w) {
  NSV_CHECK(w, STEP_CHDIR_ROOTFS, nsv_sys1(SYS_chdir, req->rootfs));
  NSV_CHECK(w, STEP_PIVOT_ROOT, nsv_sys2(SYS_pivot_root, ".", "."));
  NSV_CHECK(w, STEP_UMOUNT_OLD_ROOT, nsv_sys2(SYS_umount2, ".", MNT_DETACH));
  NSV_CHECK(w, STEP_CHDIR_NEW_ROOT, nsv_sys1(SYS_chdir, "/"));
  return 0;
}

long nsv_child_mounts(const struct nsv_spawn_req *req, struct nsv_where *w) {
  long trees[NSV_MAX_CARRIED], r;
  if (req->propagation) NSV_CHECK(w, STEP_PROPAGATION, nsv_sys5(SYS_mount, 0, "/", 0, MS_REC | req->propagation, 0));
  if ((r = take_carried(req, trees, w)) < 0) return r;
  if (req->rootfs) {
    /* pivot_root refuses a shared parent; this changes our copy of / only. */
    if (req->propagation == MS_SHARED) NSV_CHECK(w, STEP_ROOT_PRIVATE, nsv_sys5(SYS_mount, 0, "/", 0, MS_PRIVATE, 0));
    NSV_CHECK(w, STEP_ROOTFS_BIND, nsv_sys5(SYS_mount, req->rootfs, req->rootfs, 0, MS_BIND | MS_REC, 0));
  }
  for (int i = 0; i < req->n_mounts; i++) {
    if (req->mounts[i].kind == NSV_MOUNT_CARRY) continue;
    w->index = i;
    if ((r = mount_one(&req->mounts[i], w)) < 0) return r;
  }
  w->index = -1;
  if (req->rootfs && (r = enter_rootfs(req, w)) < 0) return r;
  if ((r = place_carried(req, trees, w)) < 0) return r;
  if (req->readonly_root) NSV_CHECK(w, STEP_READONLY_ROOT, make_readonly(AT_FDCWD, "/", 0));
  return 0;
}
