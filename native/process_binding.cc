// Process handles for the supervisor: watch a pidfd from the event loop, signal through it, execve, and the shared argument helpers.
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

Napi::Error SystemError(Napi::Env env, const std::string &syscall, int err) {
  Napi::Error e = Napi::Error::New(env, syscall + ": " + strerror(err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

int32_t IntProp(Napi::Object o, const char *name) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(name) + ": expected a number");
  return v.As<Napi::Number>().Int32Value();
}

bool BoolProp(Napi::Object o, const char *name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return false;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(name) + ": expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string StringProp(Napi::Object o, const char *name, bool *present) {
  Napi::Value v = o.Get(name);
  *present = !(v.IsUndefined() || v.IsNull());
  if (!*present) return "";
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(name) + ": expected a string");
  return v.As<Napi::String>().Utf8Value();
}

// Watches one pidfd with uv_poll (no thread, no waitpid(-1)); calls back once with (code, signal) when the process ends.
class PidfdWatch : public Napi::ObjectWrap<PidfdWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PidfdWatch", {InstanceMethod("close", &PidfdWatch::Close)});
  }

  PidfdWatch(const Napi::CallbackInfo &info) : Napi::ObjectWrap<PidfdWatch>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "PidfdWatch(pidfd: number, onExit: function)");
    pidfd_ = info[0].As<Napi::Number>().Int32Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t *loop;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int r = uv_poll_init(loop, poll_, pidfd_);
    if (r < 0) {
      delete poll_;
      poll_ = nullptr;
      throw SystemError(env, "uv_poll_init", -r);
    }
    poll_->data = this;
    uv_poll_start(poll_, UV_READABLE, OnReadable);
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
    if (!poll_) return;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    poll_ = nullptr;
    Unref();
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Stop();
    callback_.Reset();
    return info.Env().Undefined();
  }

  int pidfd_ = -1;
  uv_poll_t *poll_ = nullptr;
  Napi::FunctionReference callback_;
};

// sendSignal(pidfd, signal) -> true, or false when the process is already gone.
static Napi::Value SendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "sendSignal(pidfd: number, signal: number)");
  long r = syscall(SYS_pidfd_send_signal, info[0].As<Napi::Number>().Int32Value(),
                   info[1].As<Napi::Number>().Int32Value(), nullptr, 0);
  if (r < 0 && errno == ESRCH) return Napi::Boolean::New(env, false);
  if (r < 0) throw SystemError(env, "pidfd_send_signal", errno);
  return Napi::Boolean::New(env, true);
}

// execve(path, argv, envp, keepFds?): replaces this process (the `nsvisor init` command); returns only by throwing.
static Napi::Value Execve(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray())
    throw Napi::TypeError::New(env, "execve(path: string, argv: string[], envp: string[])");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> store;
  std::vector<char *> argv, envp;
  for (int k = 1; k <= 2; k++) {
    Napi::Array a = info[k].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) store.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  }
  size_t nargv = info[1].As<Napi::Array>().Length();
  for (size_t i = 0; i < store.size(); i++) (i < nargv ? argv : envp).push_back(&store[i][0]);
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  // Node marks its stdio close-on-exec and holds descriptors of its own: the new program gets 0-2 and the
  // LISTEN_FDS the caller was given (3..), nothing else.
  int keep = 3;
  if (info.Length() >= 4 && info[3].IsNumber()) keep += info[3].As<Napi::Number>().Int32Value();
  for (int fd = 0; fd < keep; fd++) fcntl(fd, F_SETFD, 0);
  syscall(SYS_close_range, keep, ~0U, CLOSE_RANGE_CLOEXEC);
  execve(path.c_str(), argv.data(), envp.data());
  throw SystemError(env, "execve(" + path + ")", errno);
}

// reap(pid) -> {code, signal} when pid was an exited child and is now reaped, or null (still running, or not ours).
// For PID 1 mode: orphans are reaped one known pid at a time, never waitpid(-1), so libuv's children are left alone.
static Napi::Value Reap(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "reap(pid: number)");
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)info[0].As<Napi::Number>().Int32Value(), &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
    return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("code", si.si_code == CLD_EXITED ? Napi::Number::New(env, si.si_status) : env.Null());
  out.Set("signal", si.si_code == CLD_EXITED ? env.Null() : Napi::Number::New(env, si.si_status));
  return out;
}

// strerror(errno) -> the C library's message, so errors read like the kernel's own words.
static Napi::Value StrError(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "strerror(errno: number)");
  return Napi::String::New(info.Env(), strerror(info[0].As<Napi::Number>().Int32Value()));
}

void InitProcessBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("strerror", Napi::Function::New(env, StrError));
  exports.Set("reap", Napi::Function::New(env, Reap));
  exports.Set("PidfdWatch", PidfdWatch::Define(env));
  exports.Set("sendSignal", Napi::Function::New(env, SendSignal));
  exports.Set("execve", Napi::Function::New(env, Execve));
}
