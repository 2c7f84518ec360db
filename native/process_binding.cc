// Process handles for the supervisor: watch a pidfd from the event loop, signal through it, execve, reap, strerror.
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <vector>

#include "bindings.h"
#include "rawsys.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

// Watches one pidfd with uv_poll (no thread, no waitpid(-1)); calls back once with (code, signal) when the process ends.
class PidfdWatch : public Napi::ObjectWrap<PidfdWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PidfdWatch", {InstanceMethod("close", &PidfdWatch::Close)});
  }

  PidfdWatch(const Napi::CallbackInfo &info) : Napi::ObjectWrap<PidfdWatch>(info) {
    Args args(info, "PidfdWatch");
    pidfd_ = args(0, "pidfd").Fd();
    callback_ = Napi::Persistent(args(1, "onExit").Function());
    poll_.Start(info.Env(), pidfd_, this, OnReadable);
    Ref();  // alive while the poll is
  }

 private:
  static void OnReadable(uv_poll_t *handle, int status, int) {
    auto *self = static_cast<PidfdWatch *>(handle->data);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (status == 0 && waitid((idtype_t)P_PIDFD, self->pidfd_, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0)
      return;  // not ended yet
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Value code = env.Null(), sig = env.Null();
    if (status == 0 && si.si_pid != 0) {
      if (si.si_code == CLD_EXITED) code = Napi::Number::New(env, si.si_status);
      else sig = Napi::Number::New(env, si.si_status);
    }
    Napi::FunctionReference cb = std::move(self->callback_);
    self->Stop();
    cb.Call({code, sig});
  }

  void Stop() {
    if (!poll_.Active()) return;
    poll_.Stop();
    Unref();
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Stop();
    callback_.Reset();
    return info.Env().Undefined();
  }

  int pidfd_ = -1;
  FdPoll poll_;
  Napi::FunctionReference callback_;
};

// sendSignal(pidfd, signal) -> true, or false when the process is already gone.
static Napi::Value SendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "sendSignal");
  int pidfd = args(0, "pidfd").Fd(), sig = args(1, "signal").Int32();
  long r = syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
  if (r < 0 && errno == ESRCH) return Napi::Boolean::New(env, false);
  if (r < 0) throw SystemError(env, "pidfd_send_signal", errno);
  return Napi::Boolean::New(env, true);
}

// execve(path, argv, envp, keepFds?): replaces this process (the `nsvisor init` command); returns only by throwing.
static Napi::Value Execve(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "execve");
  std::string path = args(0, "path").String();
  std::vector<std::string> argv_store = args(1, "argv").Strings(), envp_store = args(2, "envp").Strings();
  Checked keep_fds = args(3, "keepFds");
  // Node marks its stdio close-on-exec and holds descriptors of its own: the new program gets 0-2 and the
  // LISTEN_FDS the caller was given (3..), nothing else.
  int keep = 3 + (keep_fds.Absent() ? 0 : (int)keep_fds.Uint32());
  std::vector<char *> argv, envp;
  for (std::string &s : argv_store) argv.push_back(&s[0]);
  for (std::string &s : envp_store) envp.push_back(&s[0]);
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  for (int fd = 0; fd < keep; fd++) fcntl(fd, F_SETFD, 0);
  syscall(SYS_close_range, keep, ~0U, CLOSE_RANGE_CLOEXEC);
  execve(path.c_str(), argv.data(), envp.data());
  throw SystemError(env, "execve(" + path + ")", errno);
}

// reap(pid) -> {code, signal} when pid was an exited child and is now reaped, or null (still running, or not ours).
// For PID 1 mode: orphans are reaped one known pid at a time, never waitpid(-1), so libuv's children are left alone.
static Napi::Value Reap(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = Args(info, "reap")(0, "pid").Int32();
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (pid <= 0 || waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("code", si.si_code == CLD_EXITED ? Napi::Number::New(env, si.si_status) : env.Null());
  out.Set("signal", si.si_code == CLD_EXITED ? env.Null() : Napi::Number::New(env, si.si_status));
  return out;
}

// strerror(errno) -> the C library's message, so errors read like the kernel's own words.
static Napi::Value StrError(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), strerror(Args(info, "strerror")(0, "errno").Int32()));
}

void InitProcessBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("strerror", Napi::Function::New(env, StrError));
  exports.Set("reap", Napi::Function::New(env, Reap));
  exports.Set("PidfdWatch", PidfdWatch::Define(env));
  exports.Set("sendSignal", Napi::Function::New(env, SendSignal));
  exports.Set("execve", Napi::Function::New(env, Execve));
}
