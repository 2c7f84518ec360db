// OutputPipe: a service's output pipe read without taking the bytes (tee into a scratch pipe), then taken once written to the log.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#include "bindings.h"

// What a peek may return at most: the scratch pipe is asked for this much (the size nsvisor-init gives the
// service's pipe, so one peek can see all of it); a smaller scratch pipe is kept when the kernel refuses.
static constexpr int kScratchBytes = 1024 * 1024;

// One scratch pipe and one /dev/null per thread: a peek empties the scratch pipe before it returns, so every
// OutputPipe of the thread can share it.
struct Scratch {
  int r = -1, w = -1, null = -1, size = 0;
};

static Scratch &ScratchOf(Napi::Env env) {
  thread_local Scratch s;
  if (s.r >= 0) return s;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) throw SystemError(env, "pipe2(scratch)", errno);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    throw SystemError(env, "open(/dev/null)", err);
  }
  fcntl(fds[1], F_SETPIPE_SZ, kScratchBytes);  // refused (EPERM over the user's quota): the default size serves
  s.size = fcntl(fds[1], F_GETPIPE_SZ);
  s.r = fds[0];
  s.w = fds[1];
  s.null = null;
  return s;
}

// OutputPipe(fd, onReadable): owns the read end `fd`. watch() calls onReadable() once when the pipe holds bytes
// or has ended; peek(max) copies what it holds from the head (at most capacity bytes) without taking it; consume(n)
// takes n bytes; discard() throws away all that comes until the end; close() lets go of the fd.
class OutputPipe : public Napi::ObjectWrap<OutputPipe> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "OutputPipe",
                       {InstanceMethod("watch", &OutputPipe::Watch), InstanceMethod("peek", &OutputPipe::Peek),
                        InstanceMethod("consume", &OutputPipe::Consume), InstanceMethod("available", &OutputPipe::Available),
                        InstanceMethod("hungUp", &OutputPipe::HungUp), InstanceMethod("discard", &OutputPipe::Discard),
                        InstanceMethod("close", &OutputPipe::Close), InstanceAccessor("capacity", &OutputPipe::Capacity, nullptr)});
  }

  OutputPipe(const Napi::CallbackInfo &info) : Napi::ObjectWrap<OutputPipe>(info) {
    Napi::Env env = info.Env();
    Args args(info, "OutputPipe");
    int fd = args(0, "fd").Fd();
    Napi::Function on_readable = args(1, "onReadable").Function();
    scratch_ = &ScratchOf(env);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw SystemError(env, "fcntl(output pipe, O_NONBLOCK)", errno);
    uv_loop_t *loop;
    napi_get_uv_event_loop(env, &loop);
    handle_ = new uv_poll_t;
    int r = uv_poll_init(loop, handle_, fd);
    if (r < 0) {
      delete handle_;
      handle_ = nullptr;
      throw SystemError(env, "uv_poll_init(output pipe)", -r);
    }
    handle_->data = this;
    fd_ = fd;
    callback_ = Napi::Persistent(on_readable);
    Ref();  // alive until close() or the end of a discard
  }

 private:
  static void OnReadable(uv_poll_t *handle, int, int) {
    auto *self = static_cast<OutputPipe *>(handle->data);
    uv_poll_stop(handle);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    try {
      self->callback_.MakeCallback(env.Global(), {});
    } catch (const Napi::Error &e) {
      napi_fatal_exception(env, e.Value());  // nobody up the stack to catch it: Node's uncaught exception
    }
  }

  // A discarding pipe: everything it holds goes to /dev/null; at the end it closes.
  static void OnDiscard(uv_poll_t *handle, int, int) {
    auto *self = static_cast<OutputPipe *>(handle->data);
    for (;;) {
      ssize_t n = splice(self->fd_, nullptr, self->scratch_->null, nullptr, 1 << 20, SPLICE_F_NONBLOCK);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      break;  // the end, or a pipe that cannot be read: nothing more will be taken from it
    }
    Napi::HandleScope scope(self->Env());
    self->Release();
  }

  void CheckOpen(Napi::Env env, const char *what) const {
    if (fd_ < 0) throw Napi::Error::New(env, std::string("OutputPipe.") + what + ": the pipe is closed");
  }

  Napi::Value Watch(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env(), "watch");
    int r = uv_poll_start(handle_, UV_READABLE, OnReadable);
    if (r < 0) throw SystemError(info.Env(), "uv_poll_start(output pipe)", -r);
    return info.Env().Undefined();
  }

  // peek(max): a Buffer of at most max bytes at the head (empty when there are none yet), or null at the end (empty,
  // no writer left).
  Napi::Value Peek(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    CheckOpen(env, "peek");
    size_t max = Args(info, "peek")(0, "max").Uint32();
    if (max == 0 || max > (size_t)scratch_->size) max = (size_t)scratch_->size;
    ssize_t n;
    do n = tee(fd_, scratch_->w, max, SPLICE_F_NONBLOCK);
    while (n < 0 && errno == EINTR);
    if (n == 0) return env.Null();
    if (n < 0 && errno == EAGAIN) return Napi::Buffer<char>::New(env, 0);
    if (n < 0) throw SystemError(env, "tee(output pipe)", errno);
    Napi::Buffer<char> out = Napi::Buffer<char>::New(env, (size_t)n);
    for (size_t got = 0; got < (size_t)n;) {
      ssize_t r = read(scratch_->r, out.Data() + got, (size_t)n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw SystemError(env, "read(scratch pipe)", r < 0 ? errno : EIO);
      got += (size_t)r;
    }
    return out;
  }

  // Takes the first n bytes (which a peek saw, so they are there); returns how many were taken.
  Napi::Value Consume(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    CheckOpen(env, "consume");
    size_t left = (size_t)Args(info, "consume")(0, "bytes").Uint32();
    size_t taken = 0;
    char sink[16384];
    while (left > 0) {
      ssize_t n = splice(fd_, nullptr, scratch_->null, nullptr, left, SPLICE_F_NONBLOCK);
      if (n < 0 && errno == EINVAL) n = read(fd_, sink, left < sizeof sink ? left : sizeof sink);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) throw SystemError(env, "splice(output pipe, /dev/null)", errno);
      if (n <= 0) break;  // fewer bytes than asked: none was peeked past what is there, so nothing is left to take
      taken += (size_t)n;
      left -= (size_t)n;
    }
    return Napi::Number::New(env, (double)taken);
  }

  Napi::Value Available(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env(), "available");
    int n = 0;
    if (ioctl(fd_, FIONREAD, &n) < 0) throw SystemError(info.Env(), "ioctl(output pipe, FIONREAD)", errno);
    return Napi::Number::New(info.Env(), n);
  }

  // No writer is left: what the pipe holds is all it will ever hold.
  Napi::Value HungUp(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env(), "hungUp");
    struct pollfd p = {fd_, POLLIN, 0};
    int r;
    do r = poll(&p, 1, 0);
    while (r < 0 && errno == EINTR);
    return Napi::Boolean::New(info.Env(), r > 0 && (p.revents & (POLLHUP | POLLERR)));
  }

  Napi::Value Discard(const Napi::CallbackInfo &info) {
    CheckOpen(info.Env(), "discard");
    callback_.Reset();
    int r = uv_poll_start(handle_, UV_READABLE, OnDiscard);
    if (r < 0) throw SystemError(info.Env(), "uv_poll_start(output pipe)", -r);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Capacity(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), scratch_->size); }

  void Release() {
    if (fd_ < 0) return;
    callback_.Reset();
    uv_close(reinterpret_cast<uv_handle_t *>(handle_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    handle_ = nullptr;
    close(fd_);
    fd_ = -1;
    Unref();
  }

  int fd_ = -1;
  uv_poll_t *handle_ = nullptr;
  Scratch *scratch_ = nullptr;
  Napi::FunctionReference callback_;
};

void InitOutputPipeBindings(Napi::Env env, Napi::Object exports) { exports.Set("OutputPipe", OutputPipe::Define(env)); }
