// The package's library entry point (SPEC section 7).
export { sandbox } from './sandbox';
export type { SandboxOptions, SandboxResult, ExitReason } from './sandbox';
export { SpawnError } from './process/spawn-error';
export { ConfigError } from './config/issues';
export { loadConfig, resolveConfigSource } from './config/load';
export type { ConfigSource } from './config/load';
export { validateConfig, dependencyOrder } from './config/schema';
export type { Config, ConfigInput, ServiceConfig, SupervisorConfig, NetworkConfig, ReadyCheck, ListenAddress, HostPort } from './config/schema';
export * as cgroups from './cgroup';
export { Supervisor } from './supervisor';
export type { ServiceStatus, SupervisorEvents, RestartResult } from './supervisor';
export { RestartError } from './service/service';
export type { RestartMode } from './service/service';
