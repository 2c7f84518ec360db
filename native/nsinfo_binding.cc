// nsInfo(path): the addon's view of one namespace file (native/nsinfo.c), as a plain object for src/ns.
#include <stdio.h>

#include "bindings.h"
#include "nsinfo.h"

// "open(PATH)", "fstat(PATH)" or "ioctl(PATH, NS_GET_...)": what failed, and on which file.
static std::string CallName(const std::string &step, const std::string &path) {
  if (step.rfind("NS_GET_", 0) == 0) return "ioctl(" + path + ", " + step + ")";
  return step + "(" + path + ")";
}

static Napi::Value NsInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = Args(info, "nsInfo")(0, "path").String();
  nsv_ns_info ns{};
  const char *step = "open";
  int err = nsv_ns_query(path.c_str(), &ns, &step);
  if (err) throw SystemError(env, CallName(step, path), err);
  const char *type = nsv_ns_type_name(ns.type);
  if (!type) {
    char hex[16];
    snprintf(hex, sizeof hex, "%#x", (unsigned)ns.type);
    throw Napi::Error::New(env, CallName("NS_GET_NSTYPE", path) + ": unknown namespace type " + hex);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", Napi::String::New(env, type));
  out.Set("inode", Napi::Number::New(env, (double)ns.inode));
  out.Set("userns", ns.has_userns ? Napi::Value(Napi::Number::New(env, (double)ns.userns)) : env.Null());
  out.Set("parent", ns.has_parent ? Napi::Value(Napi::Number::New(env, (double)ns.parent)) : env.Null());
  out.Set("ownerUid", ns.has_owner_uid ? Napi::Value(Napi::Number::New(env, ns.owner_uid)) : env.Null());
  return out;
}

void InitNsInfoBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("nsInfo", Napi::Function::New(env, NsInfo));
}
