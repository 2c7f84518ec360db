/* What ioctl_ns(2) tells about one namespace file: its type, inode, owning user namespace, parent and owner uid. */
#ifndef NSV_NSINFO_H
#define NSV_NSINFO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nsv_ns_info {
  int type;             /* CLONE_NEW* value from NS_GET_NSTYPE */
  uint64_t inode;
  int has_userns;       /* 0 when NS_GET_USERNS says EPERM (owner outside our reach) */
  uint64_t userns;
  int has_parent;       /* pid and user namespaces only; 0 when EPERM or not applicable */
  uint64_t parent;
  int has_owner_uid;    /* user namespaces only */
  uint32_t owner_uid;
};

/* Fills *out for the namespace file at path (e.g. /proc/PID/ns/pid). Returns 0, or an errno with *step naming the failed
   call: "open", "fstat", or the ioctl request ("NS_GET_NSTYPE", ...). Closes every fd it opens. */
int nsv_ns_query(const char *path, struct nsv_ns_info *out, const char **step);

/* "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts", or NULL for an unknown CLONE_NEW* value. */
const char *nsv_ns_type_name(int type);

#ifdef __cplusplus
}
#endif

#endif
