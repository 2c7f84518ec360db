/* nsvisor-init's hold on the service's output pipes: kept open (and enlarged) while the supervisor reads them, drained into a bounded buffer while none does. */
#ifndef NSV_INIT_OUTPUT_H
#define NSV_INIT_OUTPUT_H

#include <stddef.h>

/* What init keeps of one output stream while orphaned: at most HELD_OUTPUT_BYTES; past that the oldest whole
   lines are dropped (a line longer than the bound keeps its last bytes) and counted. */
#define HELD_OUTPUT_BYTES (256 * 1024)
/* What F_SETPIPE_SZ asks for, so a service writes this much before it blocks while nobody reads (1 MiB is
   fs.pipe-max-size's default; a smaller pipe is kept when the kernel refuses). */
#define HELD_PIPE_BYTES (1024 * 1024)

struct held_output {
  int fd;               /* read end of the pipe (a duplicate of the supervisor's), -1 once at EOF or none */
  char *buf;            /* allocated when the first bytes come in while orphaned */
  size_t len;
  unsigned long dropped; /* lines dropped from the front to keep within the bound */
};

/* Takes the read end fd: close-on-exec (the command never sees it) and the pipe enlarged. Returns 0 or the
   errno of a failed fcntl that is not the kernel's refusal of the size. */
int output_hold(struct held_output *h, int fd);

/* Reads what the pipe holds now into the buffer (non-blocking). Returns 1 at EOF (the fd is closed then), 0 when
   more may come, or -1 (errno) when the read or the allocation fails. */
int output_drain(struct held_output *h);

/* Appends n bytes to the buffer, dropping the oldest lines past the bound. Returns 0, or -1 (ENOMEM). */
int output_append(struct held_output *h, const char *data, size_t n);

/* Forgets the first n held bytes (all of them when n is more), which the adopter has written to its log. */
void output_forget(struct held_output *h, size_t n);

#endif
