/* nsvisor-init's seccomp loader: a BPF program read from an fd at startup, installed in the main process before execve. */
#ifndef NSV_SECCOMP_LOAD_H
#define NSV_SECCOMP_LOAD_H

#include <linux/filter.h>

struct nsv_seccomp {
  struct sock_filter *insns;
  unsigned short len; /* instructions; 0 = no filter */
};

/* Reads fd to its end and closes it. Returns 0, or an errno: EINVAL when the bytes are not whole instructions or
   none, EFBIG when there are more than BPF_MAXINSNS, ENOMEM, or what read(2) said. */
int nsv_seccomp_read(int fd, struct nsv_seccomp *out);

/* Installs the filter on the calling thread. The kernel takes it only with no_new_privs set or CAP_SYS_ADMIN in the
   effective set (else EACCES). Returns 0 or the errno. */
int nsv_seccomp_install(const struct nsv_seccomp *f);

#endif
