// Registration functions of the addon's parts, and what they share: argument checks, system errors, fd polls.
#ifndef NSV_BINDINGS_H
#define NSV_BINDINGS_H

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

void InitSpawnBindings(Napi::Env env, Napi::Object exports);
void InitProcessBindings(Napi::Env env, Napi::Object exports);
void InitNotifyBindings(Napi::Env env, Napi::Object exports);
void InitNsInfoBindings(Napi::Env env, Napi::Object exports);
void InitNetlinkBindings(Napi::Env env, Napi::Object exports);
void InitListenBindings(Napi::Env env, Napi::Object exports);
void InitDevicesBindings(Napi::Env env, Napi::Object exports);
void InitAdoptBindings(Napi::Env env, Napi::Object exports);
void InitOutputPipeBindings(Napi::Env env, Napi::Object exports);

// Throws a JS Error carrying .syscall and .errno, like Node's own system errors.
Napi::Error SystemError(Napi::Env env, const std::string &syscall, int err);

// A JS value on its way into C, with where it came from: "spawn" and "request.mounts[2].kind". Every read checks
// the type first and throws a TypeError naming the place, "spawn: request.mounts[2].kind: expected a mount kind
// (addon.mountKinds), got 9"; nothing is converted unchecked.
class Checked {
 public:
  Checked(Napi::Value value, std::string call, std::string path);

  bool Absent() const;  // undefined or null
  bool Bool() const;    // undefined reads as false
  int32_t Int32() const;
  uint32_t Uint32() const;
  int64_t Int64() const;  // a safe integer: |v| < 2^53
  int Fd() const;         // an int32 >= 0
  std::string String() const;
  std::optional<std::string> OptionalString() const;  // null/undefined: none
  std::vector<std::string> Strings() const;           // an array of strings
  Napi::Function Function() const;
  // A property of this value, which must be an object.
  Checked Prop(const char *name) const;
  // The items of this value, which must be an array of at most `max` (else a RangeError).
  std::vector<Checked> Items(size_t max = SIZE_MAX) const;

  [[noreturn]] void Fail(const std::string &expected) const;  // TypeError "CALL: PATH: expected ..., got ..."
  [[noreturn]] void FailRange(const std::string &limit) const;  // RangeError "CALL: PATH: LIMIT, got ..."
  Napi::Env Env() const { return value_.Env(); }
  Napi::Value Value() const { return value_; }

 private:
  std::string Where() const { return call_ + ": " + path_; }
  Napi::Value value_;
  std::string call_, path_;
};

// The arguments of one call by position and name: Args(info, "listenTcp")(1, "port").Int32().
class Args {
 public:
  Args(const Napi::CallbackInfo &info, const char *call) : info_(info), call_(call) {}
  Checked operator()(size_t index, const char *name) const { return Checked(info_[index], call_, name); }

 private:
  const Napi::CallbackInfo &info_;
  const char *call_;
};

// Calls back from the event loop while an fd is readable (or in error); Stop() closes the handle and may be
// called any number of times. Its owner keeps itself alive (Ref) while the poll is active, and stops it before
// it lets go: a handle still active when the environment ends goes with the loop.
class FdPoll {
 public:
  FdPoll() = default;
  FdPoll(const FdPoll &) = delete;
  FdPoll &operator=(const FdPoll &) = delete;
  // Throws a SystemError when libuv refuses the fd. `data` is what handle->data gives the callback.
  void Start(Napi::Env env, int fd, void *data, uv_poll_cb on_readable);
  void Stop();
  bool Active() const { return handle_ != nullptr; }

 private:
  uv_poll_t *handle_ = nullptr;
};

#endif
