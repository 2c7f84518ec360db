/* The C floor of bench/spawn-latency: clone3 into nsvisor's namespaces, exec, waitpid; each iteration timed inside with CLOCK_MONOTONIC. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: floor NAMESPACES [INIT]
 *   NAMESPACES  comma list as nsvisor's isolate (pid,mount,uts,ipc,net,user,cgroup,time)
 *   INIT        when given: also do nsvisor's own child steps (rprivate /, /proc, /dev/mqueue,
 *               hostname, lo up) and exec INIT -- /bin/true instead of /bin/true
 * Then reads counts from stdin, one per line, and answers each with one line of that many
 * per-iteration nanoseconds. The work mirrors native/spawn.c and src/process/isolated-process.ts:
 * the same clone3 flags, a sync pipe, gid_map then uid_map written by the parent, then in the child
 * setgroups/setresgid/setresuid to root, unshare(CLONE_NEWTIME), unshare(CLONE_NEWCGROUP).
 */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static uint64_t clone_flags;
static int want_user, want_time, want_cgroup, want_net, want_ipc, want_pid, want_mount, want_uts;
static const char *init_path;
static int devnull;
static int has_mqueue_dir; /* nsvisor mounts /dev/mqueue only where the host has the directory */

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void parse_namespaces(char *list) {
  for (char *ns = strtok(list, ","); ns; ns = strtok(NULL, ",")) {
    if (!strcmp(ns, "user")) want_user = 1, clone_flags |= CLONE_NEWUSER;
    else if (!strcmp(ns, "pid")) want_pid = 1, clone_flags |= CLONE_NEWPID;
    else if (!strcmp(ns, "mount")) want_mount = 1, clone_flags |= CLONE_NEWNS;
    else if (!strcmp(ns, "uts")) want_uts = 1, clone_flags |= CLONE_NEWUTS;
    else if (!strcmp(ns, "ipc")) want_ipc = 1, clone_flags |= CLONE_NEWIPC;
    else if (!strcmp(ns, "net")) want_net = 1, clone_flags |= CLONE_NEWNET;
    else if (!strcmp(ns, "time")) want_time = 1; /* unshared in the child, as nsvisor does */
    else if (!strcmp(ns, "cgroup")) want_cgroup = 1;
    else {
      fprintf(stderr, "floor: unknown namespace %s\n", ns);
      exit(2);
    }
  }
}

static void write_file(pid_t pid, const char *name, const char *text) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  if (write(fd, text, strlen(text)) < 0) die(path);
  close(fd);
}

static int loopback_up(void) {
  struct ifreq ifr;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (r == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    r = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  close(fd);
  return r;
}

/* nsvisor's extra child steps for this namespace set (native/spawn.c setup_mounts and friends). */
static int nsvisor_steps(void) {
  if (want_uts && sethostname("sandbox", 7) < 0) return 20;
  if (want_net && loopback_up() < 0) return 21;
  if (want_mount && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return 22;
  if (want_mount && want_pid && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return 23;
  if (want_mount && want_ipc && has_mqueue_dir && mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return 24;
  return 0;
}

static void child(int sync_fd) {
  char go;
  char *true_argv[] = {"/bin/true", NULL};
  char *init_argv[] = {(char *)init_path, "--", "/bin/true", NULL};
  char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
  if (read(sync_fd, &go, 1) != 1) _exit(125);
  close(sync_fd);
  if (want_user && (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) _exit(10);
  if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) _exit(11);
  if (want_time && unshare(CLONE_NEWTIME) < 0) _exit(12);
  if (want_cgroup && unshare(CLONE_NEWCGROUP) < 0) _exit(13);
  if (init_path) {
    int r = nsvisor_steps();
    if (r) _exit(r);
    execve(init_path, init_argv, envp);
  } else {
    execve("/bin/true", true_argv, envp);
  }
  _exit(127);
}

/* One spawn: clone3, maps, go, exec, waitpid. Returns nanoseconds. */
static int64_t run_once(void) {
  struct timespec t0, t1;
  struct clone_args args;
  int sync[2], status;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (pipe2(sync, O_CLOEXEC) < 0) die("pipe2");
  memset(&args, 0, sizeof args);
  args.flags = clone_flags;
  args.exit_signal = SIGCHLD;
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) die("clone3");
  if (pid == 0) {
    close(sync[1]);
    child(sync[0]);
  }
  close(sync[0]);
  if (want_user) {
    write_file(pid, "gid_map", "0 0 1\n");
    write_file(pid, "uid_map", "0 0 1\n");
  }
  if (write(sync[1], "g", 1) != 1) die("write sync");
  close(sync[1]);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "floor: child ended with status 0x%x\n", status);
    exit(1);
  }
  return (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
}

int main(int argc, char **argv) {
  char line[64];
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: floor NAMESPACES [INIT]\n");
    return 2;
  }
  parse_namespaces(argv[1]);
  init_path = argc == 3 ? argv[2] : NULL;
  struct stat st;
  has_mqueue_dir = stat("/dev/mqueue", &st) == 0 && S_ISDIR(st.st_mode);
  if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) die("/dev/null");
  while (fgets(line, sizeof line, stdin)) {
    long n = strtol(line, NULL, 10);
    for (long i = 0; i < n; i++) printf(i ? " %lld" : "%lld", (long long)run_once());
    printf("\n");
    fflush(stdout);
  }
  return 0;
}
