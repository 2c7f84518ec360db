/* The bounded buffer of a service's output that nsvisor-init keeps while no supervisor reads the pipes. */
#define _GNU_SOURCE
#include "init_output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long count_lines(const char *p, size_t n) {
  unsigned long lines = 0;
  for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) lines++;
  return lines;
}

int output_hold(struct held_output *h, int fd) {
  h->fd = fd;
  h->buf = NULL;
  h->len = 0;
  h->dropped = 0;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return errno;
  /* EPERM: over the user's pipe quota; EBUSY: holds more already. Either way the pipe as it is still works. */
  if (fcntl(fd, F_SETPIPE_SZ, HELD_PIPE_BYTES) < 0 && errno != EPERM && errno != EBUSY) return errno;
  return 0;
}

int output_append(struct held_output *h, const char *data, size_t n) {
  if (!h->buf && !(h->buf = malloc(HELD_OUTPUT_BYTES))) return errno = ENOMEM, -1;
  if (n > HELD_OUTPUT_BYTES) {
    /* More than the whole bound at once: what is held and the head of the new bytes go. */
    h->dropped += count_lines(h->buf, h->len) + count_lines(data, n - HELD_OUTPUT_BYTES);
    data += n - HELD_OUTPUT_BYTES;
    n = HELD_OUTPUT_BYTES;
    h->len = 0;
  }
  if (h->len + n > HELD_OUTPUT_BYTES) {
    /* Cut at the end of the line that holds the first byte that must go, so only whole lines are dropped. */
    size_t cut = h->len + n - HELD_OUTPUT_BYTES;
    char *nl = memchr(h->buf + cut - 1, '\n', h->len - (cut - 1));
    cut = nl ? (size_t)(nl - h->buf) + 1 : h->len;
    h->dropped += count_lines(h->buf, cut) + (nl ? 0 : 1);
    memmove(h->buf, h->buf + cut, h->len - cut);
    h->len -= cut;
  }
  memcpy(h->buf + h->len, data, n);
  h->len += n;
  return 0;
}

void output_forget(struct held_output *h, size_t n) {
  if (n >= h->len) {
    free(h->buf);
    h->buf = NULL;
    h->len = 0;
    return;
  }
  memmove(h->buf, h->buf + n, h->len - n);
  h->len -= n;
}

int output_drain(struct held_output *h) {
  char chunk[16384];
  if (h->fd < 0) return 1;
  for (;;) {
    ssize_t n = read(h->fd, chunk, sizeof chunk);
    if (n > 0) {
      if (output_append(h, chunk, (size_t)n) < 0) return -1;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n < 0) return -1;
    close(h->fd);
    h->fd = -1;
    return 1;
  }
}
