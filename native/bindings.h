// Registration functions of the addon's parts, and the argument helpers they share.
#ifndef NSV_BINDINGS_H
#define NSV_BINDINGS_H

#include <napi.h>

#include <string>

void InitSpawnBindings(Napi::Env env, Napi::Object exports);
void InitProcessBindings(Napi::Env env, Napi::Object exports);
void InitNotifyBindings(Napi::Env env, Napi::Object exports);
void InitNsInfoBindings(Napi::Env env, Napi::Object exports);
void InitNetlinkBindings(Napi::Env env, Napi::Object exports);
void InitListenBindings(Napi::Env env, Napi::Object exports);

// Throws a JS Error carrying .syscall and .errno, like Node's own system errors.
Napi::Error SystemError(Napi::Env env, const std::string &syscall, int err);

// Reads a property of the expected type or throws a TypeError naming it.
int32_t IntProp(Napi::Object o, const char *name);
bool BoolProp(Napi::Object o, const char *name);
// Returns "" with *present = false for null/undefined.
std::string StringProp(Napi::Object o, const char *name, bool *present);

#endif
