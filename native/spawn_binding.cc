// spawn(request): checks the typed request from src/native.ts, turns it into the prepared block of spawn.h, starts the child, hands back its fds.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "bindings.h"
#include "spawn.h"
#include "steps.h"

static const unsigned long kStackSize = 256 * 1024;

// Owns everything the child reads until it has executed nsvisor-init or died: strings, arrays, its stack.
struct SpawnJob {
  nsv_spawn_req req{};
  std::deque<std::string> strings;  // a deque: adding one never moves the others, whose pointers the request holds
  std::vector<char *> argv, envp;
  std::vector<nsv_mount> mounts;
  std::vector<int> pass_fds;
  nsv_stack stack{};

  ~SpawnJob() { nsv_stack_unmap(&stack); }
  const char *Keep(const std::string &s) {
    strings.push_back(s);
    return strings.back().c_str();
  }
  const char *Keep(const std::optional<std::string> &s) { return s ? Keep(*s) : nullptr; }
  void KeepList(const std::vector<std::string> &list, std::vector<char *> &out) {
    for (const std::string &s : list) out.push_back(const_cast<char *>(Keep(s)));
    out.push_back(nullptr);
  }
};

#define NSV_IS_VALUE(id, value, name) || v == (value)
static bool IsMountKind(int v) { return false NSV_MOUNT_KINDS(NSV_IS_VALUE); }
static bool IsCreateKind(int v) { return false NSV_CREATE_KINDS(NSV_IS_VALUE); }
static bool IsTimeMode(int v) { return false NSV_TIME_MODES(NSV_IS_VALUE); }
#undef NSV_IS_VALUE

// An int32 property that must be one of an enum's values (`what` names the addon export that lists them).
static int32_t EnumProp(const Checked &o, const char *name, bool (*known)(int), const char *what) {
  Checked p = o.Prop(name);
  int32_t v = p.Int32();
  if (!known(v)) p.Fail(what);
  return v;
}

static nsv_time_offset TimeOffset(const Checked &spec, const char *name) {
  Checked o = spec.Prop(name);
  nsv_time_offset out{};
  out.mode = EnumProp(o, "mode", IsTimeMode, "a time mode (addon.timeModes)");
  out.sec = o.Prop("sec").Int64();
  Checked nsec = o.Prop("nsec");
  out.nsec = nsec.Int32();
  if (out.nsec < 0 || out.nsec >= 1000000000) nsec.Fail("nanoseconds 0 to 999999999");
  return out;
}

static nsv_mount Mount(SpawnJob &job, const Checked &m) {
  nsv_mount out{};
  out.kind = EnumProp(m, "kind", IsMountKind, "a mount kind (addon.mountKinds)");
  out.create = EnumProp(m, "create", IsCreateKind, "a create kind (addon.createKinds)");
  out.target = job.Keep(m.Prop("target").String());
  out.readonly = m.Prop("readonly").Bool();
  bool needs_source = out.kind != NSV_MOUNT_TMPFS && out.kind != NSV_MOUNT_PROC && out.kind != NSV_MOUNT_MQUEUE;
  Checked source = m.Prop("source"), data = m.Prop("data");
  out.source = needs_source ? job.Keep(source.String()) : job.Keep(source.OptionalString());
  out.data = out.kind == NSV_MOUNT_SYSFS ? job.Keep(data.String()) : job.Keep(data.OptionalString());
  return out;
}

static void FillMounts(SpawnJob &job, const Checked &spec) {
  Checked list = spec.Prop("mounts");
  int carried = 0;
  for (const Checked &m : list.Items()) {
    job.mounts.push_back(Mount(job, m));
    if (job.mounts.back().kind == NSV_MOUNT_CARRY && ++carried > NSV_MAX_CARRIED)
      list.FailRange("at most " + std::to_string(NSV_MAX_CARRIED) + " mounts of kind carry");
  }
  job.req.mounts = job.mounts.data();
  job.req.n_mounts = (int)job.mounts.size();
}

static void Fill(SpawnJob &job, const Checked &spec) {
  nsv_spawn_req &r = job.req;
  Checked flags = spec.Prop("cloneFlags");
  int64_t clone_flags = flags.Int64();
  if (clone_flags < 0) flags.Fail("clone flags (an integer >= 0)");
  r.clone_flags = (uint64_t)clone_flags;
  r.unshare_time = spec.Prop("unshareTime").Bool();
  r.monotonic = TimeOffset(spec, "monotonic");
  r.boottime = TimeOffset(spec, "boottime");
  r.unshare_cgroup = spec.Prop("unshareCgroup").Bool();
  Checked cgroup = spec.Prop("cgroupFd");
  r.cgroup_fd = cgroup.Absent() ? -1 : cgroup.Fd();
  r.become_root = spec.Prop("becomeRoot").Bool();
  r.clear_groups = spec.Prop("clearGroups").Bool();
  Checked stdio = spec.Prop("stdio");
  std::vector<Checked> stdio_fds = stdio.Items(3);
  if (stdio_fds.size() != 3) stdio.Fail("three fds");
  for (int i = 0; i < 3; i++) r.stdio[i] = stdio_fds[i].Fd();
  for (const Checked &fd : spec.Prop("passFds").Items(NSV_MAX_PASS_FDS)) job.pass_fds.push_back(fd.Fd());
  r.pass_fds = job.pass_fds.data();
  r.n_pass_fds = (int)job.pass_fds.size();
  r.new_session = spec.Prop("newSession").Bool();
  Checked propagation = spec.Prop("propagation");
  r.propagation = propagation.Uint32();
  if (r.propagation != 0 && r.propagation != MS_PRIVATE && r.propagation != MS_SLAVE && r.propagation != MS_SHARED)
    propagation.Fail("0 or one of MS.PRIVATE, MS.SLAVE, MS.SHARED");
  r.rootfs = job.Keep(spec.Prop("rootfs").OptionalString());
  r.readonly_root = spec.Prop("readonlyRoot").Bool();
  FillMounts(job, spec);
  r.hostname = job.Keep(spec.Prop("hostname").OptionalString());
  r.domainname = job.Keep(spec.Prop("domainname").OptionalString());
  r.loopback_up = spec.Prop("loopbackUp").Bool();
  r.cwd = job.Keep(spec.Prop("cwd").OptionalString());
  r.init_path = job.Keep(spec.Prop("initPath").String());
  job.KeepList(spec.Prop("argv").Strings(), job.argv);
  job.KeepList(spec.Prop("envp").Strings(), job.envp);
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
  auto job = std::make_unique<SpawnJob>();
  Fill(*job, Args(info, "spawn")(0, "request"));

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
  long r = nsv_stack_map(&job->stack, kStackSize);
  long pid = r < 0 ? r : nsv_spawn_start(&job->req, &job->stack, &pidfd);
  // The child has its own copy of the fd table: our copies of its ends can go now.
  CloseAll({job->req.init_fd, sync[0], status[1]});
  if (pid < 0) {
    CloseAll({sync[1], status[0]});
    throw SystemError(env, r < 0 ? "mmap(child stack)" : "clone3", (int)-pid);
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

// The C enums and steps by name, so JavaScript never writes their numbers itself.
static void ExportConstants(Napi::Env env, Napi::Object exports) {
  Napi::Array names = Napi::Array::New(env);
  Napi::Object steps = Napi::Object::New(env);
  uint32_t i = 0;
#define NSV_STEP_EXPORT(id, name)                        \
  names.Set(i, Napi::String::New(env, name));            \
  steps.Set(#id + sizeof "STEP_" - 1, Napi::Number::New(env, id)); \
  i++;
  NSV_STEPS(NSV_STEP_EXPORT)
#undef NSV_STEP_EXPORT
  exports.Set("stepNames", names);
  exports.Set("steps", steps);
#define NSV_SET_VALUE(id, value, name) object.Set(name, Napi::Number::New(env, value));
#define NSV_EXPORT_ENUM(list, export_name)        \
  {                                               \
    Napi::Object object = Napi::Object::New(env); \
    list(NSV_SET_VALUE)                           \
    exports.Set(export_name, object);             \
  }
  NSV_EXPORT_ENUM(NSV_MOUNT_KINDS, "mountKinds")
  NSV_EXPORT_ENUM(NSV_CREATE_KINDS, "createKinds")
  NSV_EXPORT_ENUM(NSV_TIME_MODES, "timeModes")
#undef NSV_EXPORT_ENUM
#undef NSV_SET_VALUE
  Napi::Object kinds = Napi::Object::New(env);
  kinds.Set("initStarted", Napi::Number::New(env, NSV_REC_INIT_STARTED));
  kinds.Set("error", Napi::Number::New(env, NSV_REC_ERROR));
  kinds.Set("execOk", Napi::Number::New(env, NSV_REC_EXEC_OK));
  kinds.Set("reaped", Napi::Number::New(env, NSV_REC_REAPED));
  kinds.Set("mainExit", Napi::Number::New(env, NSV_REC_MAIN_EXIT));
  exports.Set("recordKinds", kinds);
}

void InitSpawnBindings(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Spawned::Define(env);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  ExportConstants(env, exports);
}
