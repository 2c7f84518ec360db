/* nsvisor-init's seccomp loader: reads the BPF program that nsvisor compiled (src/seccomp/) and installs it. */
#define _GNU_SOURCE
#include "seccomp_load.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int nsv_seccomp_read(int fd, struct nsv_seccomp *out) {
  /* One byte of room beyond the limit tells a program that is too long from one that just fits. */
  size_t cap = BPF_MAXINSNS * sizeof(struct sock_filter) + 1, got = 0;
  char *buf = malloc(cap);
  int err = 0;
  if (!buf) err = ENOMEM;
  while (!err) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    else if (n == 0) break;
    else if ((got += (size_t)n) == cap) err = EFBIG;
  }
  close(fd);
  if (!err && (got == 0 || got % sizeof(struct sock_filter) != 0)) err = EINVAL;
  if (err) {
    free(buf);
    return err;
  }
  out->insns = (struct sock_filter *)buf;
  out->len = (unsigned short)(got / sizeof(struct sock_filter));
  return 0;
}

int nsv_seccomp_install(const struct nsv_seccomp *f) {
  struct sock_fprog prog = {f->len, f->insns};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? errno : 0;
}
