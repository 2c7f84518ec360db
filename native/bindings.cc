// The helpers every binding shares (native/bindings.h): checked reads of JS values, system errors, fd polls.
#include "bindings.h"

#include <string.h>

#include <cmath>
#include <limits>

Napi::Error SystemError(Napi::Env env, const std::string &syscall, int err) {
  Napi::Error e = Napi::Error::New(env, syscall + ": " + strerror(err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

// How a value reads in an error message: numbers as themselves, everything else by its type.
static std::string Describe(Napi::Value v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) return v.ToString().Utf8Value();
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

Checked::Checked(Napi::Value value, std::string call, std::string path)
    : value_(value), call_(std::move(call)), path_(std::move(path)) {}

void Checked::Fail(const std::string &expected) const {
  throw Napi::TypeError::New(Env(), Where() + ": expected " + expected + ", got " + Describe(value_));
}

void Checked::FailRange(const std::string &limit) const {
  throw Napi::RangeError::New(Env(), Where() + ": " + limit);
}

bool Checked::Absent() const { return value_.IsUndefined() || value_.IsNull(); }

bool Checked::Bool() const {
  if (value_.IsUndefined()) return false;
  if (!value_.IsBoolean()) Fail("a boolean");
  return value_.As<Napi::Boolean>().Value();
}

// The number, when the value is an integral number within [min, max]; else the TypeError for `expected`.
static double Integer(const Checked &c, double min, double max, const char *expected) {
  Napi::Value v = c.Value();
  if (!v.IsNumber()) c.Fail(expected);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || std::trunc(d) != d) c.Fail(expected);
  return d;
}

int32_t Checked::Int32() const {
  return (int32_t)Integer(*this, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), "a 32-bit integer");
}

uint32_t Checked::Uint32() const {
  return (uint32_t)Integer(*this, 0, std::numeric_limits<uint32_t>::max(), "an unsigned 32-bit integer");
}

int64_t Checked::Int64() const {
  const double limit = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER
  return (int64_t)Integer(*this, -limit, limit, "a safe integer");
}

int Checked::Fd() const {
  return (int)Integer(*this, 0, std::numeric_limits<int32_t>::max(), "a file descriptor (an integer >= 0)");
}

std::string Checked::String() const {
  if (!value_.IsString()) Fail("a string");
  return value_.As<Napi::String>().Utf8Value();
}

std::optional<std::string> Checked::OptionalString() const {
  if (Absent()) return std::nullopt;
  if (!value_.IsString()) Fail("a string or null");
  return value_.As<Napi::String>().Utf8Value();
}

std::vector<std::string> Checked::Strings() const {
  std::vector<std::string> out;
  for (const Checked &item : Items()) out.push_back(item.String());
  return out;
}

Napi::Function Checked::Function() const {
  if (!value_.IsFunction()) Fail("a function");
  return value_.As<Napi::Function>();
}

Checked Checked::Prop(const char *name) const {
  if (!value_.IsObject() || value_.IsArray() || value_.IsFunction()) Fail("an object");
  return Checked(value_.As<Napi::Object>().Get(name), call_, path_ + "." + name);
}

std::vector<Checked> Checked::Items(size_t max) const {
  if (!value_.IsArray()) Fail("an array");
  Napi::Array a = value_.As<Napi::Array>();
  uint32_t n = a.Length();
  if (n > max) FailRange("at most " + std::to_string(max) + " items, got " + std::to_string(n));
  std::vector<Checked> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; i++) out.emplace_back(a.Get(i), call_, path_ + "[" + std::to_string(i) + "]");
  return out;
}

void FdPoll::Start(Napi::Env env, int fd, void *data, uv_poll_cb on_readable) {
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  auto *handle = new uv_poll_t;
  int r = uv_poll_init(loop, handle, fd);
  if (r < 0) {
    delete handle;
    throw SystemError(env, "uv_poll_init", -r);
  }
  handle->data = data;
  handle_ = handle;
  if ((r = uv_poll_start(handle, UV_READABLE, on_readable)) < 0) {
    Stop();
    throw SystemError(env, "uv_poll_start", -r);
  }
}

void FdPoll::Stop() {
  if (!handle_) return;
  uv_poll_stop(handle_);
  uv_close(reinterpret_cast<uv_handle_t *>(handle_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
  handle_ = nullptr;
}
