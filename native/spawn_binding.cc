// spawn(request): turns the typed request from src/native.ts into the prepared block of spawn.h, starts the child, hands back its fds.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "spawn.h"
#include "steps.h"

static const size_t kStackSize = 256 * 1024;

// Owns everything the child reads until it has executed nsvisor-init or died: strings, arrays, its stack.
struct SpawnJob {
  nsv_spawn_req req{};
  std::vector<std::string> strings;  // reserved up front: pointers into it must not move
  std::vector<char *> argv, envp;
  std::vector<nsv_mount> mounts;
  std::vector<int> pass_fds;
  void *stack = MAP_FAILED;

  ~SpawnJob() {
    if (stack != MAP_FAILED) munmap(stack, kStackSize);
  }
  const char *Keep(const std::string &s) {
    strings.push_back(s);
    return strings.back().c_str();
  }
};

static size_t CountStrings(Napi::Object spec) {
  size_t n = 16 + spec.Get("argv").As<Napi::Array>().Length() + spec.Get("envp").As<Napi::Array>().Length();
  return n + 3 * spec.Get("mounts").As<Napi::Array>().Length();
}

static const char *OptionalString(SpawnJob &job, Napi::Object o, const char *name) {
  bool present;
  std::string s = StringProp(o, name, &present);
  return present ? job.Keep(s) : nullptr;
}

static void StringList(SpawnJob &job, Napi::Object spec, const char *name, std::vector<char *> &out) {
  Napi::Value v = spec.Get(name);
  if (!v.IsArray()) throw Napi::TypeError::New(spec.Env(), std::string(name) + ": expected an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) throw Napi::TypeError::New(spec.Env(), std::string(name) + ": expected an array of strings");
    out.push_back(const_cast<char *>(job.Keep(s.As<Napi::String>().Utf8Value())));
  }
  out.push_back(nullptr);
}

static void TimeOffset(Napi::Object spec, const char *name, nsv_time_offset *out) {
  Napi::Object o = spec.Get(name).As<Napi::Object>();
  out->mode = IntProp(o, "mode");
  out->sec = o.Get("sec").As<Napi::Number>().Int64Value();
  out->nsec = IntProp(o, "nsec");
}

static void Fill(SpawnJob &job, Napi::Object spec) {
  Napi::Env env = spec.Env();
  nsv_spawn_req &r = job.req;
  job.strings.reserve(CountStrings(spec));
  r.clone_flags = (uint64_t)spec.Get("cloneFlags").As<Napi::Number>().Int64Value();
  r.unshare_time = BoolProp(spec, "unshareTime");
  TimeOffset(spec, "monotonic", &r.monotonic);
  TimeOffset(spec, "boottime", &r.boottime);
  r.unshare_cgroup = BoolProp(spec, "unshareCgroup");
  Napi::Value cg = spec.Get("cgroupFd");
  r.cgroup_fd = cg.IsNumber() ? cg.As<Napi::Number>().Int32Value() : -1;
  if (!cg.IsNumber() && !cg.IsNull() && !cg.IsUndefined()) throw Napi::TypeError::New(env, "cgroupFd: expected an fd or null");
  r.become_root = BoolProp(spec, "becomeRoot");
  r.clear_groups = BoolProp(spec, "clearGroups");
  Napi::Array stdio = spec.Get("stdio").As<Napi::Array>();
  if (stdio.Length() != 3) throw Napi::TypeError::New(env, "stdio: expected three fds");
  for (uint32_t i = 0; i < 3; i++) r.stdio[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  Napi::Array pass = spec.Get("passFds").As<Napi::Array>();
  if (pass.Length() > 64) throw Napi::RangeError::New(env, "passFds: at most 64");
  for (uint32_t i = 0; i < pass.Length(); i++) job.pass_fds.push_back(pass.Get(i).As<Napi::Number>().Int32Value());
  r.pass_fds = job.pass_fds.data();
  r.n_pass_fds = (int)job.pass_fds.size();
  r.new_session = BoolProp(spec, "newSession");
  r.propagation = (unsigned long)IntProp(spec, "propagation");
  r.rootfs = OptionalString(job, spec, "rootfs");
  r.readonly_root = BoolProp(spec, "readonlyRoot");
  Napi::Array mounts = spec.Get("mounts").As<Napi::Array>();
  for (uint32_t i = 0; i < mounts.Length(); i++) {
    Napi::Object m = mounts.Get(i).As<Napi::Object>();
    nsv_mount nm{};
    nm.kind = IntProp(m, "kind");
    nm.source = OptionalString(job, m, "source");
    nm.target = OptionalString(job, m, "target");
    nm.data = OptionalString(job, m, "data");
    nm.readonly = BoolProp(m, "readonly");
    nm.create = IntProp(m, "create");
    if (!nm.target) throw Napi::TypeError::New(env, "mounts[" + std::to_string(i) + "].target: required");
    job.mounts.push_back(nm);
  }
  r.mounts = job.mounts.data();
  r.n_mounts = (int)job.mounts.size();
  r.hostname = OptionalString(job, spec, "hostname");
  r.domainname = OptionalString(job, spec, "domainname");
  r.loopback_up = BoolProp(spec, "loopbackUp");
  r.cwd = OptionalString(job, spec, "cwd");
  r.init_path = OptionalString(job, spec, "initPath");
  if (!r.init_path) throw Napi::TypeError::New(env, "initPath: required");
  StringList(job, spec, "argv", job.argv);
  StringList(job, spec, "envp", job.envp);
  r.argv = job.argv.data();
  r.envp = job.envp.data();
}

// The handle JS keeps until the child can no longer be running on the job's memory.
class Spawned : public Napi::ObjectWrap<Spawned> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Spawned", {InstanceMethod("release", &Spawned::Release)});
  }
  Spawned(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Spawned>(info) {}
  // A job the JS side never released may still be in use by a child: leak it rather than free it under the child.
  ~Spawned() { (void)job_.release(); }
  std::unique_ptr<SpawnJob> job_;

 private:
  Napi::Value Release(const Napi::CallbackInfo &info) {
    job_.reset();
    return info.Env().Undefined();
  }
};


static void CloseAll(std::initializer_list<int> fds) {
  for (int fd : fds)
    if (fd >= 0) close(fd);
}

static Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "spawn(request: object)");
  auto job = std::make_unique<SpawnJob>();
  Fill(*job, info[0].As<Napi::Object>());

  int sync[2] = {-1, -1}, status[2] = {-1, -1}, pidfd = -1;
  job->req.init_fd = open(job->req.init_path, O_PATH | O_CLOEXEC);
  if (job->req.init_fd < 0) throw SystemError(env, std::string("open(") + job->req.init_path + ")", errno);
  if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
    int err = errno;
    CloseAll({job->req.init_fd, sync[0], sync[1]});
    throw SystemError(env, "pipe2", err);
  }
  job->req.sync_fd = sync[0];
  job->req.sync_write_fd = sync[1];
  job->req.status_fd = status[1];
  job->req.status_read_fd = status[0];
  job->stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  long pid = job->stack == MAP_FAILED ? -errno
                                      : nsv_spawn_start(&job->req, job->stack, kStackSize, &pidfd);
  // The child has its own copy of the fd table: our copies of its ends can go now.
  CloseAll({job->req.init_fd, sync[0], status[1]});
  if (pid < 0) {
    CloseAll({sync[1], status[0]});
    throw SystemError(env, "clone3", (int)-pid);
  }
  // Per environment: the addon is loaded by worker threads too (the netlink pool), each with its own constructor.
  Napi::Object handle = env.GetInstanceData<Napi::FunctionReference>()->New({});
  Spawned::Unwrap(handle)->job_ = std::move(job);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, (double)pid));
  out.Set("pidfd", Napi::Number::New(env, pidfd));
  out.Set("syncFd", Napi::Number::New(env, sync[1]));
  out.Set("statusFd", Napi::Number::New(env, status[0]));
  out.Set("job", handle);
  return out;
}

void InitSpawnBindings(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Spawned::Define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  Napi::Array steps = Napi::Array::New(env);
  uint32_t i = 0;
#define NSV_STEP_NAME(id, name) steps.Set(i++, Napi::String::New(env, name));
  NSV_STEPS(NSV_STEP_NAME)
#undef NSV_STEP_NAME
  exports.Set("stepNames", steps);
  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("initStarted", Napi::Number::New(env, NSV_REC_INIT_STARTED));
  kinds.Set("error", Napi::Number::New(env, NSV_REC_ERROR));
  kinds.Set("execOk", Napi::Number::New(env, NSV_REC_EXEC_OK));
  kinds.Set("reaped", Napi::Number::New(env, NSV_REC_REAPED));
  kinds.Set("mainExit", Napi::Number::New(env, NSV_REC_MAIN_EXIT));
  exports.Set("recordKinds", kinds);
}
