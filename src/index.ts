// The package's library entry point (SPEC section 7).
export { sandbox } from './sandbox';
export type { SandboxOptions, SandboxResult, ExitReason } from './sandbox';
export { LaunchFailure } from './launch/failure';
export { ConfigError } from './config/issues';
export { loadConfig, resolveConfigSource } from './config/load';
export type { ConfigSource } from './config/load';
export { validateConfig, dependencyOrder } from './config/schema';
export type { Config, ConfigInput, ServiceConfig, SupervisorConfig, NetworkConfig, ReadyCheck, ListenAddress, HostPort } from './config/schema';
export * as cgroups from './cgroup';
export { Supervisor } from './supervisor';
export type { SupervisorEvents, RestartResult } from './supervisor';
export type { ServiceStatus } from './control/status';
export { RestartError } from './service/replace';
export type { RestartMode } from './service/service';
