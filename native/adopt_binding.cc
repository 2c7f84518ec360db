// Adoption of an instance a dead supervisor left: connect to its nsvisor-init's socket, take the hand-over (fds by SCM_RIGHTS, kept output), open a pidfd, copy its listen sockets.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "adopt_wire.h"
#include "bindings.h"

// Reads exactly n bytes (the socket has a receive timeout); false at EOF or on an error (errno; 0 for EOF).
static bool ReadAll(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = EPIPE;
      return false;
    }
    p += r;
    n -= (size_t)r;
  }
  return true;
}

// Closes what an attempt holds and throws naming the call.
[[noreturn]] static void Fail(Napi::Env env, const std::string &what, int err, std::initializer_list<int> fds) {
  for (int fd : fds) if (fd >= 0) close(fd);
  throw SystemError(env, what, err);
}

// adoptOpen(path) -> a connection (close-on-exec) to an nsvisor-init's adoption socket. The connect does not wait
// for init (its backlog queues it), so a supervisor can open every connection first and the inits hand over at
// once, in parallel, instead of one round trip after the other.
static Napi::Value AdoptOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "adoptOpen");
  std::string path = args(0, "path").String();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Napi::TypeError::New(env, "adoptOpen: path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail(env, "socket(" + path + ")", errno, {});
  if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) Fail(env, "connect(" + path + ")", errno, {fd});
  return Napi::Number::New(env, fd);
}

// adoptReceive(fd, path, timeoutMs) -> { fd, ackFd, stdout, stderr, held: [Buffer, Buffer], dropped: [n, n], orphanedMs }:
// the hand-over on a connection adoptOpen made (path names it in errors). fd stays the connection, to be read as
// the status channel; ackFd is a copy of it to acknowledge the held bytes on (adopt_wire.h; null when none is
// held); stdout/stderr are the pipes' read ends or null. Blocks at most timeoutMs per read; on a
// failure the connection is closed too.
static Napi::Value AdoptReceive(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "adoptReceive");
  int fd = args(0, "fd").Fd();
  std::string path = args(1, "path").String();
  uint32_t timeout_ms = args(2, "timeoutMs").Uint32();
  timeval bound = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound) < 0) Fail(env, "setsockopt(SO_RCVTIMEO)", errno, {fd});
  nsv_adopt_header h{};
  char control[CMSG_SPACE(2 * sizeof(int))]{};
  iovec iov = {&h, sizeof h};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r;
  do r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  while (r < 0 && errno == EINTR);
  if (r < 0) Fail(env, "recvmsg(" + path + ")", errno, {fd});
  int got[2] = {-1, -1}, n = 0;
  for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && n < 2; i++) std::memcpy(&got[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  int expected = __builtin_popcount(h.fd_mask & 3u);
  if (r != (ssize_t)sizeof h || h.magic != NSV_ADOPT_MAGIC || h.version != NSV_ADOPT_VERSION || n != expected || (msg.msg_flags & MSG_CTRUNC))
    Fail(env, "recvmsg(" + path + "): not an nsvisor-init hand-over", EPROTO, {fd, got[0], got[1]});
  int pipes[2] = {-1, -1};
  for (int i = 0, k = 0; i < 2; i++) if (h.fd_mask >> i & 1u) pipes[i] = got[k++];
  Napi::Array held = Napi::Array::New(env, 2), dropped = Napi::Array::New(env, 2);
  for (uint32_t i = 0; i < 2; i++) {
    Napi::Buffer<char> bytes = Napi::Buffer<char>::New(env, h.held[i]);
    if (!ReadAll(fd, bytes.Data(), h.held[i])) Fail(env, "read(" + path + ", the output kept)", errno, {fd, pipes[0], pipes[1]});
    held.Set(i, bytes);
    dropped.Set(i, Napi::Number::New(env, h.dropped[i]));
  }
  // The held bytes are acknowledged on a copy of the connection, which stays valid however the status reader ends.
  int ack = -1;
  if ((h.held[0] || h.held[1]) && (ack = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) Fail(env, "fcntl(" + path + ", F_DUPFD_CLOEXEC)", errno, {fd, pipes[0], pipes[1]});
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("ackFd", ack < 0 ? env.Null() : Napi::Number::New(env, ack));
  out.Set("stdout", pipes[0] < 0 ? env.Null() : Napi::Number::New(env, pipes[0]));
  out.Set("stderr", pipes[1] < 0 ? env.Null() : Napi::Number::New(env, pipes[1]));
  out.Set("held", held);
  out.Set("dropped", dropped);
  out.Set("orphanedMs", Napi::Number::New(env, h.orphaned_ms));
  return out;
}

// pidfdOpen(pid) -> a pidfd (close-on-exec by the kernel's rule for pidfds).
static Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "pidfdOpen");
  int pid = args(0, "pid").Int32();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw SystemError(env, "pidfd_open(" + std::to_string(pid) + ")", errno);
  return Napi::Number::New(env, (int)fd);
}

// pidfdGetfd(pidfd, fd) -> a copy of the process's fd in ours (close-on-exec by the kernel's rule), or null when it has
// no such fd. Needs ptrace access to it (PTRACE_MODE_ATTACH: root has it).
static Napi::Value PidfdGetfd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "pidfdGetfd");
  int pidfd = args(0, "pidfd").Fd(), target = args(1, "fd").Fd();
  long fd = syscall(SYS_pidfd_getfd, pidfd, target, 0);
  if (fd < 0 && errno == EBADF) return env.Null();
  if (fd < 0) throw SystemError(env, "pidfd_getfd(fd " + std::to_string(target) + ")", errno);
  return Napi::Number::New(env, (int)fd);
}

// listeningAddress(fd) -> { type: 'tcp', host, port } or { type: 'unix', path } of a listening stream socket; null for
// any other fd (not a socket, not listening, another family).
static Napi::Value ListeningAddress(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "listeningAddress");
  int fd = args(0, "fd").Fd();
  int listening = 0, type = 0;
  socklen_t len = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening) return env.Null();
  len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) return env.Null();
  sockaddr_storage ss{};
  len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0) throw SystemError(env, "getsockname", errno);
  Napi::Object out = Napi::Object::New(env);
  char host[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    auto *a = reinterpret_cast<sockaddr_in *>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    out.Set("port", Napi::Number::New(env, ntohs(a->sin_port)));
  } else if (ss.ss_family == AF_INET6) {
    auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    out.Set("port", Napi::Number::New(env, ntohs(a->sin6_port)));
  } else if (ss.ss_family == AF_UNIX) {
    auto *a = reinterpret_cast<sockaddr_un *>(&ss);
    size_t n = len > offsetof(sockaddr_un, sun_path) ? strnlen(a->sun_path, len - offsetof(sockaddr_un, sun_path)) : 0;
    out.Set("type", Napi::String::New(env, "unix"));
    out.Set("path", Napi::String::New(env, std::string(a->sun_path, n)));
    return out;
  } else {
    return env.Null();
  }
  out.Set("type", Napi::String::New(env, "tcp"));
  out.Set("host", Napi::String::New(env, host));
  return out;
}

void InitAdoptBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("adoptOpen", Napi::Function::New(env, AdoptOpen));
  exports.Set("adoptReceive", Napi::Function::New(env, AdoptReceive));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdGetfd", Napi::Function::New(env, PidfdGetfd));
  exports.Set("listeningAddress", Napi::Function::New(env, ListeningAddress));
}
