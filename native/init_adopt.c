/* A new supervisor adopts the instance: nsvisor-init checks its peer's credentials and hands over its fds and the output it kept. */
#define _GNU_SOURCE
#include "init_adopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "adopt_wire.h"
#include "init_log.h"

/* A new supervisor that stops reading mid-way must not hold the service's keeper for long. */
#define HANDOVER_TIMEOUT_S 5

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_header(int conn, const struct nsv_adopt_header *h, const int *fds, int n) {
  char control[CMSG_SPACE(2 * sizeof(int))];
  struct iovec iov = {(void *)h, sizeof *h};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  memset(control, 0, sizeof control);
  if (n > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n * sizeof(int));
  }
  ssize_t w;
  do w = sendmsg(conn, &msg, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  return w == (ssize_t)sizeof *h ? 0 : -1;
}

static int refuse(int conn, int err) {
  close(conn);
  errno = err;
  return -1;
}

int adopt_accept(int listen_fd, struct held_output out[2], int n_out, long orphaned_ms) {
  int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) return -1;
  struct ucred peer;
  socklen_t len = sizeof peer;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) return refuse(conn, errno);
  if (peer.uid != 0 && peer.uid != geteuid()) return refuse(conn, EACCES);
  struct timeval bound = {HANDOVER_TIMEOUT_S, 0};
  if (setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound) < 0) return refuse(conn, errno);
  struct nsv_adopt_header h = {NSV_ADOPT_MAGIC, NSV_ADOPT_VERSION, 0, {0, 0}, {0, 0}, (uint32_t)orphaned_ms};
  int fds[2], n = 0;
  for (int i = 0; i < n_out; i++) {
    h.held[i] = (uint32_t)out[i].len;
    h.dropped[i] = (uint32_t)out[i].dropped;
    if (out[i].fd < 0) continue;
    h.fd_mask |= 1u << i;
    fds[n++] = out[i].fd;
  }
  if (send_header(conn, &h, fds, n) < 0) return refuse(conn, errno);
  for (int i = 0; i < n_out; i++) {
    if (write_all(conn, out[i].buf, out[i].len) < 0) return refuse(conn, errno);
    out[i].dropped = 0; /* told once; the bytes stay until the adopter says they are in its log */
  }
  return conn;
}

size_t adopt_take_acks(int conn, struct held_output out[2], int n_out) {
  struct nsv_adopt_ack ack;
  ssize_t r;
  /* Each acknowledgement is one write of its whole size, so reads of that size never split one. */
  while ((r = read(conn, &ack, sizeof ack)) == (ssize_t)sizeof ack || (r < 0 && errno == EINTR)) {
    if (r < 0) continue;
    if (ack.magic != NSV_ADOPT_ACK_MAGIC || ack.stream >= (uint32_t)n_out) {
      init_log(INIT_WARN, "adoption socket: an acknowledgement that makes no sense (magic %#x, stream %u) is ignored", ack.magic, ack.stream);
      continue;
    }
    output_forget(&out[ack.stream], ack.bytes);
  }
  size_t left = 0;
  for (int i = 0; i < n_out; i++) left += out[i].len;
  return left;
}
