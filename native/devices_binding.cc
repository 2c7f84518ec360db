// A device allow-list on a cgroup v2: the eBPF program (built in TypeScript) loaded and attached to the cgroup directory.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bindings.h"

static long Bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

// Loads the program; on a refusal asks again with the verifier's log and puts its last lines in the error.
static int LoadProgram(Napi::Env env, const Napi::Buffer<uint8_t> &program) {
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.Data());
  load.insn_cnt = static_cast<uint32_t>(program.Length() / sizeof(struct bpf_insn));
  load.license = reinterpret_cast<uint64_t>("MIT");
  int fd = static_cast<int>(Bpf(BPF_PROG_LOAD, &load));
  if (fd >= 0) return fd;
  int err = errno;
  static char log[16384];
  log[0] = '\0';
  load.log_buf = reinterpret_cast<uint64_t>(log);
  load.log_size = sizeof log;
  load.log_level = 1;
  int again = static_cast<int>(Bpf(BPF_PROG_LOAD, &load));
  if (again >= 0) return again;  // accepted the second time: nothing to report
  std::string text(log);
  if (text.size() > 400) text = "..." + text.substr(text.size() - 400);
  Napi::Error e = SystemError(env, "bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE)", err);
  if (!text.empty()) e.Set("verifierLog", Napi::String::New(env, text));
  throw e;
}

// attachDeviceProgram(cgroupDir, program): program is an array of struct bpf_insn. Attached with BPF_F_ALLOW_MULTI
// (a program an ancestor has, systemd's for example, still runs); the cgroup keeps it until it is removed.
static Napi::Value AttachDeviceProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Args args(info, "attachDeviceProgram");
  std::string dir = args(0, "cgroupDir").String();
  Checked prog = args(1, "program");
  if (!prog.Value().IsBuffer()) prog.Fail("a Buffer of struct bpf_insn");
  auto program = prog.Value().As<Napi::Buffer<uint8_t>>();
  if (program.Length() == 0 || program.Length() % sizeof(struct bpf_insn) != 0) prog.FailRange("a whole number of 8-byte instructions");
  int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) throw SystemError(env, "open(" + dir + ")", errno);
  int progfd;
  try {
    progfd = LoadProgram(env, program);
  } catch (...) {
    close(dirfd);
    throw;
  }
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(dirfd);
  attach.attach_bpf_fd = static_cast<uint32_t>(progfd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  long r = Bpf(BPF_PROG_ATTACH, &attach);
  int err = errno;
  close(progfd);
  close(dirfd);
  if (r < 0) throw SystemError(env, "bpf(BPF_PROG_ATTACH, " + dir + ")", err);
  return env.Undefined();
}

void InitDevicesBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("attachDeviceProgram", Napi::Function::New(env, AttachDeviceProgram));
}
