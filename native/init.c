/* nsvisor-init: PID 1 of a service's pid namespace (or a subreaper) and a drop-in for tini: forwards signals to the main process, reaps orphans, drains, exits with the main process's status. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init_adopt.h"
#include "init_command.h"
#include "init_join.h"
#include "init_log.h"
#include "init_options.h"
#include "init_output.h"
#include "init_procs.h"
#include "init_signals.h"
#include "seccomp_load.h"
#include "steps.h"

/* While SIGKILL goes to whatever is left (the drain is over, or the supervisor is gone): how often to look again
   when no child has ended meanwhile. */
#define KILL_RETRY_MS 50

struct init_state {
  const struct init_options *o;
  int sfd;             /* the signalfd */
  pid_t main_pid;
  int main_status;     /* wait status, valid once main_done */
  int main_done;
  int status_fd;       /* the supervisor's pipe while it listens, or -1 */
  int32_t reaped;      /* orphans reaped and not reported yet */
  long drain_deadline; /* CLOCK_MONOTONIC ms at which the drain ends; -1 before it starts */
  int killing;         /* the drain is over: SIGKILL to whatever is found */
  struct nsv_seccomp seccomp; /* from --seccomp-fd, for the main process */
  /* --adopt-timeout: the supervisor is gone and we keep the service for a new one. */
  int orphaned;
  long adopt_deadline;  /* ms at which, with no new supervisor, the service is stopped; -1 before */
  long stop_deadline;   /* ms at which an orphaned stop turns to SIGKILL; -1 before it starts */
  long orphaned_at;     /* ms at which the supervisor was found gone */
  struct held_output out[2];
  int awaiting_acks;    /* the adopter has held output it has not said is in its log yet */
};

/* A failure nsvisor-init cannot go on from. Named on the status pipe (read by the supervisor until the command
   runs) and on stderr (the service's log once it runs); exit 125, and as PID 1 the kernel ends the namespace. */
__attribute__((noreturn)) static void die(const struct init_state *st, int step, const char *subject, int err) {
  report_step(st->status_fd, step, subject, err);
  if (st->status_fd >= 0) init_error("%s: %s", step_name(step), strerror(err));
  _exit(125);
}

static long now_ms(const struct init_state *st) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) die(st, STEP_CLOCK, NULL, errno);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* SIGKILL to everything below us; called again and again until reap() finds nothing left, since a fork racing
   the kill hands its child to us (we are PID 1 or a subreaper). Returns -1 when what is left cannot be found. */
static int kill_rest(const struct init_state *st) {
  if (signal_rest(SIGKILL, st->main_done ? 0 : st->main_pid) >= 0) return 0;
  init_log(INIT_WARN, "cannot list the processes left (/proc: %s): only the main process and its group were signalled", strerror(errno));
  return -1;
}

static void note_reaped(struct init_state *st, pid_t pid, int status) {
  if (pid != st->main_pid) {
    if (st->reaped < INT32_MAX) st->reaped++;
    if (st->o->warn_on_reap) init_log(INIT_WARN, "Reaped zombie process with pid=%d", (int)pid);
    else init_log(INIT_DEBUG, "reaped orphan %d", (int)pid);
    return;
  }
  st->main_status = status;
  st->main_done = 1;
  if (WIFEXITED(status)) init_log(INIT_INFO, "main process %d exited with code %d", (int)pid, WEXITSTATUS(status));
  else init_log(INIT_INFO, "main process %d was killed by SIG%s", (int)pid, sigabbrev_np(WTERMSIG(status)) ?: "?");
}

/* Reaps every child that has ended; returns 1 when no child is left at all. */
static int reap(struct init_state *st) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) note_reaped(st, pid, status);
    else if (pid == 0) return 0;
    else if (errno == ECHILD) return 1;
    else if (errno != EINTR) die(st, STEP_INIT_WAIT, NULL, errno);
  }
}

/* The supervisor is gone: its end of the status pipe closed, so it died (even by SIGKILL; we no longer die with it,
   see start()). Nothing of the service may outlive it: as PID 1 we kill all of the namespace; as a subreaper every
   orphan of the service is ours, so we kill everything below us until nothing is left. Then we exit.
   This is the one place that decides what a supervisor's end means for its service. */
__attribute__((noreturn)) static void on_supervisor_gone(struct init_state *st) {
  init_log(INIT_WARN, "the supervisor is gone (its status pipe closed): ending every process of the service");
  if (getpid() == 1) {
    /* Our exit alone would end the namespace too; the kill makes it immediate. ESRCH: nothing else is left. */
    if (kill(-1, SIGKILL) < 0 && errno != ESRCH) init_log(INIT_WARN, "kill(-1, SIGKILL): %s", strerror(errno));
    _exit(128 + SIGKILL);
  }
  for (;;) {
    if (kill_rest(st) < 0 || reap(st)) _exit(128 + SIGKILL);
    struct pollfd p = {st->sfd, POLLIN, 0};
    struct signalfd_siginfo si;
    if (poll(&p, 1, KILL_RETRY_MS) < 0 && errno != EINTR) die(st, STEP_INIT_POLL, NULL, errno);
    /* SIGCHLD woke us, or a signal for a service that is ending anyway: read them all, forward none. */
    while (read(st->sfd, &si, sizeof si) == (ssize_t)sizeof si) continue;
  }
}

/* The supervisor is gone and --adopt-timeout says the service outlives it: the clock starts, the output pipes are
   read from now on (or the service would block on a full pipe), and after the timeout it is stopped. */
static void keep_for_adoption(struct init_state *st) {
  init_log(INIT_WARN, "the supervisor is gone (its status pipe closed): the service runs on for %ld ms for a new one to adopt it", st->o->adopt_ms);
  st->orphaned = 1;
  st->orphaned_at = now_ms(st);
  st->adopt_deadline = st->orphaned_at + st->o->adopt_ms;
  for (int i = 0; i < st->o->n_output_fds; i++) {
    int flags = fcntl(st->out[i].fd, F_GETFL);
    if (flags < 0 || fcntl(st->out[i].fd, F_SETFL, flags | O_NONBLOCK) < 0) init_log(INIT_WARN, "fcntl(output pipe, O_NONBLOCK): %s", strerror(errno));
  }
}

/* A status write failed with EPIPE, or the pipe hung up: under the supervisor that is its end; otherwise reporting
   just stops. */
static void status_pipe_closed(struct init_state *st) {
  if (st->o->supervised && st->o->adopt_ms == 0) on_supervisor_gone(st);
  if (close(st->status_fd) < 0) init_log(INIT_WARN, "close(status pipe): %s", strerror(errno));
  st->status_fd = -1;
  if (st->o->supervised) keep_for_adoption(st);
}

/* Writes one record; 0 when written, -1 when the non-blocking pipe is full (it waits for the next). */
static int send_record(struct init_state *st, int32_t kind, int32_t step, int32_t err) {
  struct nsv_record rec = {kind, step, err, -1};
  if (st->status_fd < 0) return 0;
  if (write(st->status_fd, &rec, sizeof rec) == (ssize_t)sizeof rec) return 0;
  if (errno == EAGAIN) return -1;
  if (errno != EPIPE) die(st, STEP_INIT_STATUS_WRITE, NULL, errno);
  status_pipe_closed(st);
  return 0;
}

/* One REAPED record for all the orphans reaped since the last one (when the pipe is full, the count waits). */
static void report_reaped(struct init_state *st) {
  if (st->reaped && send_record(st, NSV_REC_REAPED, st->reaped, 0) == 0) st->reaped = 0;
}

/* Joins the service (--join), says we started, reads the seccomp filter, settles how we reap, takes over the signals,
   settles how we die. */
static void start(struct init_state *st, struct saved_signals *saved) {
  const struct init_options *o = st->o;
  struct nsv_record started = {NSV_REC_INIT_STARTED, 0, 0, -1};
  int step, err, bit = 0;
  if (o->join_pid > 0 && (step = join_namespaces(o->join_pid))) {
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)o->join_pid);
    die(st, step, pid, errno);
  }
  if (st->status_fd >= 0) {
    if (fcntl(st->status_fd, F_SETFD, FD_CLOEXEC) < 0) die(st, STEP_INIT_STATUS_FD, NULL, errno);
    /* Blocking, as nothing runs yet: it fails only when the supervisor is gone, and then there is nothing to end. */
    if (write(st->status_fd, &started, sizeof started) != (ssize_t)sizeof started) _exit(125);
  }
  for (int i = 0; i < o->n_output_fds; i++)
    if ((err = output_hold(&st->out[i], o->output_fds[i]))) die(st, STEP_INIT_OUTPUT_FD, NULL, err);
  if (o->adopt_fd >= 0 && fcntl(o->adopt_fd, F_SETFD, FD_CLOEXEC) < 0) die(st, STEP_INIT_OUTPUT_FD, "adopt socket", errno);
  if (o->seccomp_fd >= 0 && (err = nsv_seccomp_read(o->seccomp_fd, &st->seccomp))) {
    if (st->status_fd >= 0) report_step(st->status_fd, STEP_SECCOMP_READ, NULL, err);
    init_error("--seccomp-fd %d: %s", o->seccomp_fd, strerror(err));
    _exit(125);
  }
  if (getpid() != 1) {
    /* Orphans come to a subreaper: the drain and the end of a supervisor need them. tini registers only on -s. */
    if (o->subreaper || managed(o) || o->drain_ms > 0) {
      if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die(st, STEP_INIT_SUBREAPER, NULL, errno);
      init_log(INIT_TRACE, "registered as a child subreaper");
    } else if (prctl(PR_GET_CHILD_SUBREAPER, &bit, 0, 0, 0) < 0) {
      init_log(INIT_DEBUG, "PR_GET_CHILD_SUBREAPER: %s", strerror(errno));
    } else if (!bit) {
      init_log(INIT_WARN, "nsvisor-init is neither PID 1 nor a child subreaper, so orphans do not come to it and zombie "
                          "reaping won't work: give it -s (or set TINI_SUBREAPER), or run it as PID 1");
    }
  }
  if ((step = take_signals(saved, &st->sfd))) die(st, step, NULL, errno);
  /* Under the supervisor this clears the SIGKILL the clone child armed: we learn of the supervisor's end from the
     status pipe instead, and must live on to end the service. Otherwise it is tini's -p, armed once the signal
     is ours to take (and forward). */
  if ((o->supervised || o->parent_death_signal) && prctl(PR_SET_PDEATHSIG, o->parent_death_signal, 0, 0, 0) < 0)
    die(st, STEP_INIT_PDEATHSIG, NULL, errno);
}

/* Forks the main process; returns the read end of its exec pipe (-1 without a status pipe to tell). */
static int spawn_main(struct init_state *st, const struct saved_signals *saved) {
  const struct init_options *o = st->o;
  int exec_pipe[2] = {-1, -1};
  struct command_start c = {o, saved, &st->seccomp, -1, getpid()};
  if (st->status_fd >= 0 && pipe2(exec_pipe, O_CLOEXEC) < 0) die(st, STEP_INIT_EXEC_PIPE, NULL, errno);
  st->main_pid = fork();
  if (st->main_pid < 0) die(st, STEP_INIT_FORK, NULL, errno);
  if (st->main_pid == 0) {
    c.exec_fd = exec_pipe[1]; /* the read end, close-on-exec, goes at the execve */
    run_command(&c);
  }
  init_log(INIT_INFO, "spawned %s as pid %d", o->command[0], (int)st->main_pid);
  /* The main process holds what it needs; we keep only the signalfd, stdio and the status pipe. */
  for (int fd = 3; fd < 3 + o->listen_fds; fd++)
    if (close(fd) < 0) init_log(INIT_WARN, "close(listen fd %d): %s", fd, strerror(errno));
  if (exec_pipe[1] >= 0 && close(exec_pipe[1]) < 0) die(st, STEP_INIT_CLOSE, NULL, errno);
  return exec_pipe[0];
}

/* Waits until the main process has run its command (EOF) or failed (a byte). Once it runs, says so and keeps the
   status pipe, non-blocking, for reaped counts and the supervisor's end; when it failed, it wrote its own error,
   and we let go of the pipe so the supervisor reads it to the end. */
static void await_exec(struct init_state *st, int exec_fd) {
  char failed;
  ssize_t n;
  if (exec_fd < 0) return;
  do n = read(exec_fd, &failed, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) die(st, STEP_INIT_EXEC_PIPE, NULL, errno);
  if (close(exec_fd) < 0) die(st, STEP_INIT_CLOSE, NULL, errno);
  if (n == 1) {
    if (close(st->status_fd) < 0) die(st, STEP_INIT_CLOSE, NULL, errno);
    st->status_fd = -1;
    return;
  }
  send_record(st, NSV_REC_EXEC_OK, 0, 0); /* blocking still: an empty pipe takes it */
  int flags = st->status_fd >= 0 ? fcntl(st->status_fd, F_GETFL) : 0;
  if (flags < 0 || (st->status_fd >= 0 && fcntl(st->status_fd, F_SETFL, flags | O_NONBLOCK) < 0)) die(st, STEP_INIT_STATUS_FD, NULL, errno);
}

static void forward(const struct init_state *st, int sig) {
  pid_t target = st->o->process_group ? -st->main_pid : st->main_pid;
  if (st->main_done) return;
  init_log(INIT_DEBUG, "passing SIG%s to %s %d", sigabbrev_np(sig) ?: "?", target < 0 ? "process group" : "pid", (int)st->main_pid);
  if (kill(target, sig) == 0) return;
  if (errno == ESRCH) init_log(INIT_WARN, "the main process was gone when SIG%s came for it", sigabbrev_np(sig) ?: "?");
  else init_log(INIT_WARN, "passing SIG%s to %d: %s", sigabbrev_np(sig) ?: "?", (int)target, strerror(errno));
}

/* Reads every pending signal: SIGCHLD means reaping, the rest goes to the main process. */
static void take_pending_signals(struct init_state *st) {
  struct signalfd_siginfo si;
  for (;;) {
    ssize_t n = read(st->sfd, &si, sizeof si);
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof si) die(st, STEP_INIT_READ_SIGNAL, NULL, n < 0 ? errno : EIO);
    if (si.ssi_signo == SIGCHLD) init_log(INIT_DEBUG, "Received SIGCHLD");
    /* A SIGPIPE of our own (a write to the supervisor's closed pipe) is not the service's business. */
    else if (!(si.ssi_signo == SIGPIPE && si.ssi_pid == (uint32_t)getpid())) forward(st, (int)si.ssi_signo);
  }
}

/* A new supervisor connected: when it is one we take, the connection is our status channel from now on and the
   output pipes are its to read again. */
static void adopted(struct init_state *st) {
  long orphaned_ms = now_ms(st) - st->orphaned_at;
  int conn = adopt_accept(st->o->adopt_fd, st->out, st->o->n_output_fds, orphaned_ms);
  if (conn < 0) {
    init_log(INIT_WARN, "a connection to the instance socket was refused: %s", strerror(errno));
    return;
  }
  int flags = fcntl(conn, F_GETFL);
  if (flags < 0 || fcntl(conn, F_SETFL, flags | O_NONBLOCK) < 0) die(st, STEP_INIT_STATUS_FD, NULL, errno);
  init_log(INIT_INFO, "adopted by a new supervisor after %ld ms", orphaned_ms);
  st->status_fd = conn;
  st->orphaned = 0;
  st->adopt_deadline = -1;
  for (int i = 0; i < st->o->n_output_fds; i++) st->awaiting_acks |= st->out[i].len > 0;
}

/* The nearest of the clocks that are running (the drain, the adoption window, an orphaned stop) as a poll timeout. */
static int poll_timeout(struct init_state *st) {
  if (st->killing) return KILL_RETRY_MS;
  long deadline = -1;
  if (st->drain_deadline >= 0) deadline = st->drain_deadline;
  if (st->adopt_deadline >= 0 && st->stop_deadline < 0 && (deadline < 0 || st->adopt_deadline < deadline)) deadline = st->adopt_deadline;
  if (st->stop_deadline >= 0 && !st->main_done && (deadline < 0 || st->stop_deadline < deadline)) deadline = st->stop_deadline;
  if (deadline < 0) return -1;
  long left = deadline - now_ms(st);
  return left > 0 ? (int)left : 0;
}

/* Sleeps until a signal comes, the supervisor goes, output comes while orphaned, or a clock says so. */
static void wait_for_events(struct init_state *st) {
  /* A pipe's write end reports POLLERR once its read end is closed: the supervisor is gone. The output pipes are
     watched only while orphaned (poll skips a negative fd): until then they are the supervisor's to read. */
  struct pollfd p[5] = {{st->sfd, POLLIN, 0}, {st->status_fd, st->awaiting_acks ? POLLIN : 0, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
  for (int i = 0; st->orphaned && i < st->o->n_output_fds; i++) p[2 + i].fd = st->out[i].fd;
  /* A new supervisor is taken while the service runs and its stop has not begun. */
  if (st->orphaned && st->stop_deadline < 0 && !st->main_done) p[4].fd = st->o->adopt_fd;
  int n = poll(p, 5, poll_timeout(st));
  if (n < 0 && errno != EINTR) die(st, STEP_INIT_POLL, NULL, errno);
  if (n <= 0) return;
  if (p[1].revents & POLLNVAL) die(st, STEP_INIT_POLL, "status pipe", EBADF);
  /* The adopter's acknowledgements first: one sent just before it died still counts. */
  if (st->awaiting_acks && (p[1].revents & POLLIN)) st->awaiting_acks = adopt_take_acks(st->status_fd, st->out, st->o->n_output_fds) > 0;
  if (p[1].revents & (POLLERR | POLLHUP)) {
    st->awaiting_acks = 0; /* what is not acknowledged goes to the next adopter */
    status_pipe_closed(st);
  }
  for (int i = 0; i < 2; i++)
    if (p[2 + i].revents && output_drain(&st->out[i]) < 0) {
      init_log(INIT_WARN, "reading the output pipe: %s; it is read no further", strerror(errno));
      close(st->out[i].fd);
      st->out[i].fd = -1;
    }
  if (p[4].revents & POLLIN) adopted(st);
  if (p[0].revents & POLLIN) take_pending_signals(st);
}

/* The adoption window is over with no new supervisor: the service stops as `nsvisor stop` would stop it (the stop
   signal, SIGKILL of all of it after the stop timeout; once the main process ends, the drain). */
static void check_orphan_clocks(struct init_state *st) {
  if (!st->orphaned) return;
  long now = now_ms(st);
  if (st->stop_deadline < 0 && now >= st->adopt_deadline) {
    init_log(INIT_WARN, "no supervisor adopted the service in %ld ms: stopping it", st->o->adopt_ms);
    st->stop_deadline = now + st->o->stop_timeout_ms;
    if (!st->main_done) {
      pid_t target = st->o->process_group ? -st->main_pid : st->main_pid;
      if (kill(target, st->o->stop_signal) < 0 && errno != ESRCH) init_log(INIT_WARN, "kill(%d, SIG%s): %s", (int)target, sigabbrev_np(st->o->stop_signal) ?: "?", strerror(errno));
    }
  }
  if (st->stop_deadline >= 0 && !st->main_done && !st->killing && now >= st->stop_deadline) {
    init_log(INIT_WARN, "the service did not stop in %ld ms: SIGKILL to all of it", st->o->stop_timeout_ms);
    st->killing = 1;
  }
}

/* The main process has ended and others are left: returns 0 to exit now (tini's way: --drain 0 standalone),
   else starts the drain (the stop signal, then SIGKILL once its time is over; at once for --drain 0 under nsvisor). */
static int start_drain(struct init_state *st) {
  const struct init_options *o = st->o;
  if (o->drain_ms == 0 && !managed(o)) return 0;
  st->drain_deadline = now_ms(st) + o->drain_ms;
  if (o->drain_ms == 0) {
    st->killing = 1;
    return 1;
  }
  init_log(INIT_DEBUG, "the main process has ended: SIG%s to what is left, SIGKILL in %ld ms", sigabbrev_np(o->stop_signal) ?: "?", o->drain_ms);
  if (signal_rest(o->stop_signal, 0) < 0) init_log(INIT_WARN, "cannot find the processes left to drain (/proc: %s)", strerror(errno));
  return 1;
}

static int exit_code(const struct init_options *o, int status) {
  int code = (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) % 256;
  return o->expected[code / 8] >> (code % 8) & 1 ? 0 : code;
}

int main(int argc, char **argv) {
  struct init_options o;
  struct saved_signals saved;
  struct init_state st = {&o, -1, 0, 0, 0, -1, 0, -1, 0, {NULL, 0}, 0, -1, -1, 0, {{-1, NULL, 0, 0}, {-1, NULL, 0, 0}}, 0};
  parse_options(argc, argv, &o);
  st.status_fd = o.status_fd;
  start(&st, &saved);
  await_exec(&st, spawn_main(&st, &saved));
  for (;;) {
    wait_for_events(&st);
    int none_left = reap(&st);
    report_reaped(&st);
    check_orphan_clocks(&st);
    if (st.killing && !st.main_done) kill_rest(&st); /* when it cannot list them, the main process and its group */
    if (!st.main_done) continue;
    if (none_left) break;
    if (st.drain_deadline < 0 && !start_drain(&st)) break;
    if (!st.killing && now_ms(&st) >= st.drain_deadline) st.killing = 1;
    if (st.killing && kill_rest(&st) < 0) break;
  }
  /* How the main process ended, which our exit code 128+N cannot tell from an exit(128+N): the last record. It is
     lost when the pipe is full, or when the supervisor is gone, and then nothing is left below us to end. */
  int exited = WIFEXITED(st.main_status);
  struct nsv_record last = {NSV_REC_MAIN_EXIT, exited ? WEXITSTATUS(st.main_status) : -1, exited ? 0 : WTERMSIG(st.main_status), -1};
  if (st.status_fd >= 0 && write(st.status_fd, &last, sizeof last) != (ssize_t)sizeof last)
    init_log(INIT_DEBUG, "the last record was not written: %s", strerror(errno));
  return exit_code(&o, st.main_status);
}
