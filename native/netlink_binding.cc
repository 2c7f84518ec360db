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

void Expect(const Napi::CallbackInfo &info, const char *types, const char *usage) {
  for (size_t i = 0; types[i]; i++) {
    bool ok = types[i] == 's' ? info[i].IsString() : types[i] == 'n' ? info[i].IsNumber()
              : info[i].IsString() || info[i].IsNull() || info[i].IsUndefined();
    if (!ok) throw Napi::TypeError::New(info.Env(), usage);
  }
}

std::string Str(const Napi::Value &v) { return v.As<Napi::String>().Utf8Value(); }
uint32_t U32(const Napi::Value &v) { return v.As<Napi::Number>().Uint32Value(); }
int32_t I32(const Napi::Value &v) { return v.As<Napi::Number>().Int32Value(); }

Napi::Value BridgeEnsure(const Napi::CallbackInfo &info) {
  Expect(info, "snn", "netBridgeEnsure(name: string, address: number, prefix: number)");
  Socket s(info.Env(), 0);
  int created = 0;
  s.Check(info.Env(), nsv_nl_bridge_ensure(s.fd(), Str(info[0]).c_str(), U32(info[1]), I32(info[2]), &created, s.step()));
  return Napi::Boolean::New(info.Env(), created);
}

Napi::Value VethAdd(const Napi::CallbackInfo &info) {
  Expect(info, "ssns", "netVethAdd(host: string, bridge: string, pid: number, peer: string)");
  Socket s(info.Env(), 0);
  s.Check(info.Env(), nsv_nl_veth_add(s.fd(), Str(info[0]).c_str(), Str(info[1]).c_str(), I32(info[2]), Str(info[3]).c_str(), s.step()));
  return info.Env().Undefined();
}

Napi::Value LinkMove(const Napi::CallbackInfo &info) {
  Expect(info, "snz", "netLinkMove(name: string, pid: number, newName: string | null, fromNsFd?: number)");
  bool from = info.Length() > 3 && !info[3].IsUndefined();
  if (from && !info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "netLinkMove: fromNsFd must be a number");
  Socket s(info.Env(), 0, from ? I32(info[3]) : -1);
  std::string renamed = info[2].IsString() ? Str(info[2]) : "";
  s.Check(info.Env(), nsv_nl_link_move(s.fd(), Str(info[0]).c_str(), I32(info[1]), info[2].IsString() ? renamed.c_str() : nullptr, s.step()));
  return info.Env().Undefined();
}

Napi::Value Configure(const Napi::CallbackInfo &info) {
  Expect(info, "nsnnn", "netConfigure(pid: number, ifname: string, address: number, prefix: number, gateway: number)");
  Socket s(info.Env(), I32(info[0]));
  s.Check(info.Env(), nsv_nl_configure(s.fd(), Str(info[1]).c_str(), U32(info[2]), I32(info[3]), U32(info[4]), s.step()));
  return info.Env().Undefined();
}

Napi::Value LinkDelete(const Napi::CallbackInfo &info) {
  Expect(info, "sn", "netLinkDelete(name: string, pid: number)");
  Socket s(info.Env(), I32(info[1]));
  int r = nsv_nl_link_del(s.fd(), Str(info[0]).c_str(), s.step());
  if (r == -ENODEV) return Napi::Boolean::New(info.Env(), false);
  s.Check(info.Env(), r);
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value LinkIndex(const Napi::CallbackInfo &info) {
  Expect(info, "sn", "netLinkIndex(name: string, pid: number)");
  Socket s(info.Env(), I32(info[1]));
  int index = 0, r = nsv_nl_link_index(s.fd(), Str(info[0]).c_str(), &index, s.step());
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
  Expect(info, "n", "netLinkStats(pid: number)");
  Socket s(info.Env(), I32(info[0]));
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
