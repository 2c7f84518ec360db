/* Finds and signals every process below nsvisor-init: kill(-1) as PID 1, else a walk of /proc's parent links from our pid. */
#define _GNU_SOURCE
#include "init_procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init_log.h"
#include "rawsys.h"

struct proc_link {
  pid_t pid, ppid;
  int queued;
};

/* The parent of pid from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces and parentheses). */
static int read_ppid(pid_t pid, pid_t *ppid) {
  char path[32], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (close(fd) < 0 || n <= 0) return -1;
  buf[n] = '\0';
  char *end = strrchr(buf, ')');
  int parent;
  if (!end || sscanf(end + 1, " %*c %d", &parent) != 1) return -1;
  *ppid = (pid_t)parent;
  return 0;
}

/* Every process /proc lists, with its parent. Returns the count (the array in *out, to free), or -1 (errno). */
static long list_processes(struct proc_link **out) {
  DIR *proc = opendir("/proc");
  struct proc_link *links = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  if (!proc) return -1;
  for (;;) {
    errno = 0; /* readdir's only way to tell its end from a failure */
    if (!(e = readdir(proc))) break;
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    pid_t ppid;
    if (*end || pid <= 0 || read_ppid((pid_t)pid, &ppid) < 0) continue; /* not a process, or gone meanwhile */
    if (n == cap) {
      struct proc_link *more = realloc(links, (cap = cap ? 2 * cap : 256) * sizeof *links);
      if (!more) break; /* errno: ENOMEM */
      links = more;
    }
    links[n++] = (struct proc_link){(pid_t)pid, ppid, 0};
  }
  int err = errno;
  if (closedir(proc) < 0 && !err) err = errno;
  if (err) {
    free(links);
    return errno = err, -1;
  }
  *out = links;
  return (long)n;
}

/* Signals pid if it is still the child of parent, or was handed to us meanwhile (its parent died): the pidfd
   pins the process, so a pid reused since /proc was read is never hit. Returns 1 when signalled. */
static int signal_if_below(pid_t pid, pid_t parent, int sig) {
  pid_t now;
  int fd = (int)syscall(SYS_pidfd_open, pid, 0), hit = 0;
  if (fd < 0) return 0; /* gone */
  if (read_ppid(pid, &now) == 0 && (now == parent || now == getpid())) {
    if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0) hit = 1;
    else if (errno != ESRCH) init_log(INIT_WARN, "signal %d to pid %d: %s", sig, (int)pid, strerror(errno));
  }
  if (close(fd) < 0) init_log(INIT_WARN, "close(pidfd of %d): %s", (int)pid, strerror(errno));
  return hit;
}

/* Whether /proc shows our pid namespace: its "self" is our pid. */
static int proc_is_ours(void) {
  char self[32];
  ssize_t n = readlink("/proc/self", self, sizeof self - 1);
  if (n <= 0) return 0;
  self[n] = '\0';
  return strtol(self, NULL, 10) == (long)getpid();
}

/* Breadth first from our pid: parents are signalled before their children are looked at. */
static int signal_descendants(int sig) {
  struct proc_link *links;
  long n = list_processes(&links);
  if (n < 0) return -1;
  pid_t *queue = malloc(((size_t)n + 1) * sizeof *queue);
  if (!queue) {
    free(links);
    return errno = ENOMEM, -1;
  }
  size_t head = 0, tail = 0;
  int hit = 0;
  queue[tail++] = getpid();
  while (head < tail) {
    pid_t parent = queue[head++];
    for (long i = 0; i < n; i++) {
      if (links[i].queued || links[i].ppid != parent) continue;
      links[i].queued = 1;
      queue[tail++] = links[i].pid;
      hit += signal_if_below(links[i].pid, parent, sig);
    }
  }
  free(queue);
  free(links);
  return hit;
}

int signal_rest(int sig, pid_t main_pid) {
  if (getpid() == 1) {
    if (kill(-1, sig) == 0) return 1;
    return errno == ESRCH ? 0 : -1;
  }
  if (proc_is_ours()) return signal_descendants(sig);
  /* What can be reached without a list; ESRCH: the group (or main) is gone already. */
  if (main_pid > 0 && kill(-main_pid, sig) < 0 && errno != ESRCH) init_log(INIT_WARN, "kill(-%d): %s", (int)main_pid, strerror(errno));
  if (main_pid > 0 && kill(main_pid, sig) < 0 && errno != ESRCH) init_log(INIT_WARN, "kill(%d): %s", (int)main_pid, strerror(errno));
  errno = ENOENT;
  return -1;
}
