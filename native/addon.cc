// The addon's entry point: each part registers its exports; argument checks live beside each binding.
#include <napi.h>

#include "bindings.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitSpawnBindings(env, exports);
  InitProcessBindings(env, exports);
  InitNotifyBindings(env, exports);
  InitNsInfoBindings(env, exports);
  InitNetlinkBindings(env, exports);
  InitListenBindings(env, exports);
  InitDevicesBindings(env, exports);
  InitAdoptBindings(env, exports);
  InitOutputPipeBindings(env, exports);
  return exports;
}

NODE_API_MODULE(nsvisor, Init)
