// The package's library entry point (SPEC section 7).
export { sandbox } from './sandbox';
export type { SandboxOptions, SandboxResult, ExitReason } from './sandbox';
export { SpawnError } from './process/spawn-error';
export { ConfigError } from './config/issues';
export * as cgroups from './cgroup';
