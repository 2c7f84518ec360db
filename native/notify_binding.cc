// Sockets and pipes: the services' sd_notify datagram socket, nsvisor's own word to its service manager, a TCP socket inside a service's network namespace, pipe().
#include <errno.h>
#include <stddef.h>
#include <sched.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "bindings.h"

// NotifySocket(path, onMessage): binds a SOCK_DGRAM unix socket at path (mode 0666, so a service running as any
// user can say READY=1) and calls onMessage(text) for each datagram. close() stops and unlinks it.
class NotifySocket : public Napi::ObjectWrap<NotifySocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NotifySocket", {InstanceMethod("close", &NotifySocket::Close)});
  }

  NotifySocket(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NotifySocket>(info) {
    Napi::Env env = info.Env();
    Args args(info, "NotifySocket");
    path_ = args(0, "path").String();
    Napi::Function on_message = args(1, "onMessage").Function();
    struct sockaddr_un addr;
    if (path_.size() >= sizeof addr.sun_path) throw Napi::RangeError::New(env, "notify socket path too long: " + path_);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path_.c_str(), path_.size());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw SystemError(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
    unlink(path_.c_str());
    if (bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 || chmod(path_.c_str(), 0666) < 0) {
      int err = errno;
      CloseSocket();
      throw SystemError(env, "bind(" + path_ + ")", err);
    }
    try {
      poll_.Start(env, fd_, this, OnReadable);
    } catch (...) {
      CloseSocket();
      throw;
    }
    callback_ = Napi::Persistent(on_message);
    Ref();
  }

 private:
  static void OnReadable(uv_poll_t *handle, int, int) {
    auto *self = static_cast<NotifySocket *>(handle->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    char buf[4096];
    for (;;) {
      ssize_t n = recv(self->fd_, buf, sizeof buf, 0);
      if (n < 0) break;  // EAGAIN: drained
      self->callback_.Call({Napi::String::New(env, buf, (size_t)n)});
      if (self->fd_ < 0) break;  // closed from the callback
    }
  }

  // Closes and removes the socket (a bound socket file that failed its chmod goes too).
  void CloseSocket() {
    close(fd_);
    unlink(path_.c_str());
    fd_ = -1;
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    if (fd_ >= 0) {
      poll_.Stop();
      CloseSocket();
      Unref();
    }
    return info.Env().Undefined();
  }

  std::string path_;
  int fd_ = -1;
  FdPoll poll_;
  Napi::FunctionReference callback_;
};

// pipe() -> [readFd, writeFd], both close-on-exec (the spawn path dups the write end into place).
static Napi::Value Pipe(const Napi::CallbackInfo &info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw SystemError(info.Env(), "pipe2", errno);
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

// netnsSocket(pid) -> a TCP socket fd created in the network namespace of pid. setns(CLONE_NEWNET) moves only the
// calling thread, and back at once; the socket stays in the namespace it was made in.
static Napi::Value NetnsSocket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = Args(info, "netnsSocket")(0, "pid").Int32();
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) throw SystemError(env, "open(" + path + ")", errno);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0 || setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    close(target);
    if (self >= 0) close(self);
    throw SystemError(env, "setns(" + path + ")", err);
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int err = errno;
  if (setns(self, CLONE_NEWNET) < 0) abort();  // this thread would stay in the service's namespace: never go on
  close(self);
  close(target);
  if (fd < 0) throw SystemError(env, "socket", err);
  return Napi::Number::New(env, fd);
}

// sdNotify(socket, text): one datagram to the service manager's NOTIFY_SOCKET, a path or "@name" (abstract).
static Napi::Value SdNotify(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "sdNotify");
  std::string socket_path = args(0, "socket").String();
  std::string text = args(1, "text").String();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || (socket_path[0] != '/' && socket_path[0] != '@') || socket_path.size() >= sizeof addr.sun_path) {
    throw Napi::RangeError::New(env, "NOTIFY_SOCKET: expected an absolute path or @name shorter than 108 bytes, got \"" + socket_path + "\"");
  }
  memcpy(addr.sun_path, socket_path.c_str(), socket_path.size());
  if (socket_path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + socket_path.size() + (socket_path[0] == '/'));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SystemError(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
  ssize_t n = sendto(fd, text.data(), text.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr *>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) throw SystemError(env, "sendto(" + socket_path + ")", err);
  return env.Undefined();
}

void InitNotifyBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
  exports.Set("NotifySocket", NotifySocket::Define(env));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("netnsSocket", Napi::Function::New(env, NetnsSocket));
}
