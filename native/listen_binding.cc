// Listening sockets the supervisor holds for its services (SPEC listen): made here, never accepted on by Node.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "bindings.h"

// socket + options + bind + listen; returns the fd or throws naming the failed call. The fd is close-on-exec:
// only the spawn path, which dups it into place, hands it on.
static int BoundSocket(Napi::Env env, int family, const sockaddr *addr, socklen_t len, int backlog, const std::string &what) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SystemError(env, "socket(" + what + ")", errno);
  int one = 1;
  if (family != AF_UNIX && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    throw SystemError(env, "setsockopt(" + what + ", SO_REUSEADDR)", err);
  }
  if (bind(fd, addr, len) < 0 || listen(fd, backlog) < 0) {
    int err = errno;
    close(fd);
    throw SystemError(env, "bind/listen(" + what + ")", err);
  }
  return fd;
}

// listenTcp(address, port, backlog) -> fd; address is a numeric IPv4 or IPv6 address.
static Napi::Value ListenTcp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "listenTcp");
  std::string host = args(0, "address").String();
  Checked port_arg = args(1, "port");
  int port = port_arg.Int32(), backlog = args(2, "backlog").Int32();
  if (port < 0 || port > 65535) port_arg.Fail("a port 0 to 65535");
  std::string what = host + " port " + std::to_string(port);
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return Napi::Number::New(env, BoundSocket(env, AF_INET, reinterpret_cast<sockaddr *>(&v4), sizeof v4, backlog, what));
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return Napi::Number::New(env, BoundSocket(env, AF_INET6, reinterpret_cast<sockaddr *>(&v6), sizeof v6, backlog, what));
  }
  throw Napi::TypeError::New(env, "listenTcp: " + host + " is not a numeric IP address");
}

// True when path is a socket nobody listens on (left by a process that died): safe to replace.
static bool StaleSocket(const sockaddr_un &addr) {
  struct stat st;
  if (lstat(addr.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) return false;
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return false;
  bool refused = connect(probe, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) < 0 && errno == ECONNREFUSED;
  close(probe);
  return refused;
}

// listenUnix(path, backlog, mode) -> fd; a stale socket file at path is replaced, anything else there is an error.
static Napi::Value ListenUnix(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "listenUnix");
  std::string path = args(0, "path").String();
  int backlog = args(1, "backlog").Int32();
  mode_t mode = args(2, "mode").Uint32();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Napi::TypeError::New(env, "listenUnix: path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (StaleSocket(addr)) unlink(addr.sun_path);
  int fd = BoundSocket(env, AF_UNIX, reinterpret_cast<sockaddr *>(&addr), sizeof addr, backlog, path);
  if (chmod(addr.sun_path, mode) < 0) {
    int err = errno;
    close(fd);
    unlink(addr.sun_path);
    throw SystemError(env, "chmod(" + path + ")", err);
  }
  return Napi::Number::New(env, fd);
}

void InitListenBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("listenTcp", Napi::Function::New(env, ListenTcp));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix));
}
