// The rtnetlink calls for JavaScript: arguments checked here, one NETLINK_ROUTE socket per call, errors name the step.
#include <errno.h>
#include <unistd.h>

#include "bindings.h"
#include "netlink.h"

namespace {

// A netlink socket of pid's network namespace (0: ours), or of the one an open namespace fd refers to; closed when it goes out of scope.
class Socket {
 public:
  Socket(Napi::Env env, int pid, int nsfd = -1) {
    std::string what = "network namespace fd " + std::to_string(nsfd);
    fd_ = nsfd >= 0 ? nsv_nl_open_ns(nsfd, what.c_str(), step_) : nsv_nl_open(pid, step_);
    if (fd_ < 0) throw SystemError(env, step_, -fd_);
  }
  Socket(const Socket &) = delete;
  Socket &operator=(const Socket &) = delete;
  ~Socket() { close(fd_); }
  int fd() const { return fd_; }
  char *step() { return step_; }
  void Check(Napi::Env env, int r) {
    if (r < 0) throw SystemError(env, step_, -r);
  }

 private:
  int fd_;
  char step_[NSV_NL_STEP_MAX] = "";
};

Napi::Value BridgeEnsure(const Napi::CallbackInfo &info) {
  Args args(info, "netBridgeEnsure");
  std::string name = args(0, "name").String();
  uint32_t address = args(1, "address").Uint32();
  int prefix = args(2, "prefix").Int32();
  Socket s(info.Env(), 0);
  int created = 0;
  s.Check(info.Env(), nsv_nl_bridge_ensure(s.fd(), name.c_str(), address, prefix, &created, s.step()));
  return Napi::Boolean::New(info.Env(), created);
}

Napi::Value VethAdd(const Napi::CallbackInfo &info) {
  Args args(info, "netVethAdd");
  std::string host = args(0, "host").String(), bridge = args(1, "bridge").String();
  int pid = args(2, "pid").Int32();
  std::string peer = args(3, "peer").String();
  Socket s(info.Env(), 0);
  s.Check(info.Env(), nsv_nl_veth_add(s.fd(), host.c_str(), bridge.c_str(), pid, peer.c_str(), s.step()));
  return info.Env().Undefined();
}

Napi::Value LinkMove(const Napi::CallbackInfo &info) {
  Args args(info, "netLinkMove");
  std::string name = args(0, "name").String();
  int pid = args(1, "pid").Int32();
  std::optional<std::string> renamed = args(2, "newName").OptionalString();
  Checked from = args(3, "fromNsFd");
  Socket s(info.Env(), 0, from.Absent() ? -1 : from.Fd());
  s.Check(info.Env(), nsv_nl_link_move(s.fd(), name.c_str(), pid, renamed ? renamed->c_str() : nullptr, s.step()));
  return info.Env().Undefined();
}

Napi::Value Configure(const Napi::CallbackInfo &info) {
  Args args(info, "netConfigure");
  int pid = args(0, "pid").Int32();
  std::string ifname = args(1, "ifname").String();
  uint32_t address = args(2, "address").Uint32();
  int prefix = args(3, "prefix").Int32();
  uint32_t gateway = args(4, "gateway").Uint32();
  Socket s(info.Env(), pid);
  s.Check(info.Env(), nsv_nl_configure(s.fd(), ifname.c_str(), address, prefix, gateway, s.step()));
  return info.Env().Undefined();
}

// The (name, pid) of the calls that look one link up in pid's namespace.
struct LinkInPid {
  std::string name;
  int pid;
};

LinkInPid LinkArgs(const Napi::CallbackInfo &info, const char *call) {
  Args args(info, call);
  std::string name = args(0, "name").String();
  return {name, args(1, "pid").Int32()};
}

Napi::Value LinkDelete(const Napi::CallbackInfo &info) {
  LinkInPid link = LinkArgs(info, "netLinkDelete");
  Socket s(info.Env(), link.pid);
  int r = nsv_nl_link_del(s.fd(), link.name.c_str(), s.step());
  if (r == -ENODEV) return Napi::Boolean::New(info.Env(), false);
  s.Check(info.Env(), r);
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value LinkIndex(const Napi::CallbackInfo &info) {
  LinkInPid link = LinkArgs(info, "netLinkIndex");
  Socket s(info.Env(), link.pid);
  int index = 0, r = nsv_nl_link_index(s.fd(), link.name.c_str(), &index, s.step());
  if (r == -ENODEV) return info.Env().Null();
  s.Check(info.Env(), r);
  return Napi::Number::New(info.Env(), index);
}

struct StatsOut {
  Napi::Env env;
  Napi::Array list;
};

void AddStats(const char *name, uint64_t rx, uint64_t tx, void *arg) {
  auto *out = static_cast<StatsOut *>(arg);
  Napi::Object o = Napi::Object::New(out->env);
  o.Set("name", name);
  o.Set("rxBytes", Napi::Number::New(out->env, (double)rx));
  o.Set("txBytes", Napi::Number::New(out->env, (double)tx));
  out->list.Set(out->list.Length(), o);
}

Napi::Value LinkStats(const Napi::CallbackInfo &info) {
  Socket s(info.Env(), Args(info, "netLinkStats")(0, "pid").Int32());
  StatsOut out{info.Env(), Napi::Array::New(info.Env())};
  s.Check(info.Env(), nsv_nl_link_stats(s.fd(), AddStats, &out, s.step()));
  return out.list;
}

}  // namespace

void InitNetlinkBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("netBridgeEnsure", Napi::Function::New(env, BridgeEnsure));
  exports.Set("netVethAdd", Napi::Function::New(env, VethAdd));
  exports.Set("netLinkMove", Napi::Function::New(env, LinkMove));
  exports.Set("netConfigure", Napi::Function::New(env, Configure));
  exports.Set("netLinkDelete", Napi::Function::New(env, LinkDelete));
  exports.Set("netLinkIndex", Napi::Function::New(env, LinkIndex));
  exports.Set("netLinkStats", Napi::Function::New(env, LinkStats));
}
