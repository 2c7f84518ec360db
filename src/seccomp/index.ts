// The seccomp module's API: profiles (nsvisor's default, or an OCI/Docker JSON file) compiled to the BPF program nsvisor-init installs.
export { archInfo, ARCHES, hostArch, hostKernel } from './arch';
export type { Arch, ArchInfo } from './arch';
export { compileSeccomp } from './compile';
export type { CompileOptions } from './compile';
export { defaultProfile } from './default-profile';
export { parseProfileJson, readProfileFile } from './parse-profile';
export type { ArgCondition, CompareOp, RuleFilter, SeccompAction, SeccompProfile, SeccompRule } from './profile';
