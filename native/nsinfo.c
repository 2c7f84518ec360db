/* Reads one namespace file with ioctl_ns(2): NS_GET_NSTYPE, NS_GET_USERNS, NS_GET_PARENT, NS_GET_OWNER_UID. */
#define _GNU_SOURCE
#include "nsinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

const char *nsv_ns_type_name(int type) {
  switch (type) {
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWNS: return "mnt";
    case CLONE_NEWNET: return "net";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWTIME: return "time";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWUTS: return "uts";
    default: return NULL;
  }
}

/* Follows one ioctl that yields a namespace fd (NS_GET_USERNS, NS_GET_PARENT) to that namespace's inode.
   Returns 0 with *found = 1, 0 with *found = 0 on EPERM, or an errno. */
static int related_inode(int fd, unsigned long request, const char *request_name, uint64_t *inode, int *found,
                         const char **step) {
  struct stat st;
  int rfd = ioctl(fd, request);
  *found = 0;
  if (rfd < 0) {
    if (errno == EPERM) return 0;
    *step = request_name;
    return errno;
  }
  if (fstat(rfd, &st) < 0) {
    int err = errno;
    close(rfd);
    *step = "fstat";
    return err;
  }
  close(rfd);
  *inode = (uint64_t)st.st_ino;
  *found = 1;
  return 0;
}

static int read_ns(int fd, struct nsv_ns_info *out, const char **step) {
  struct stat st;
  int err;
  if (fstat(fd, &st) < 0) {
    *step = "fstat";
    return errno;
  }
  out->inode = (uint64_t)st.st_ino;
  out->type = ioctl(fd, NS_GET_NSTYPE);
  if (out->type < 0) {
    *step = "NS_GET_NSTYPE";
    return errno;
  }
  err = related_inode(fd, NS_GET_USERNS, "NS_GET_USERNS", &out->userns, &out->has_userns, step);
  if (err) return err;
  if (out->type == CLONE_NEWPID || out->type == CLONE_NEWUSER) {
    err = related_inode(fd, NS_GET_PARENT, "NS_GET_PARENT", &out->parent, &out->has_parent, step);
    if (err) return err;
  }
  if (out->type == CLONE_NEWUSER) {
    uid_t uid;
    if (ioctl(fd, NS_GET_OWNER_UID, &uid) < 0) {
      *step = "NS_GET_OWNER_UID";
      return errno;
    }
    out->owner_uid = (uint32_t)uid;
    out->has_owner_uid = 1;
  }
  return 0;
}

int nsv_ns_query(const char *path, struct nsv_ns_info *out, const char **step) {
  int fd, err;
  out->has_userns = out->has_parent = out->has_owner_uid = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    *step = "open";
    return errno;
  }
  err = read_ns(fd, out, step);
  close(fd);
  return err;
}
