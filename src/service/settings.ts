// What a Service needs of its configuration entry: the isolation keys plus restart, readiness and dependencies.
import type { Isolation } from '../config/isolation';
import type { RestartPolicy } from './backoff';

export interface ReadySettings {
  notify?: boolean;
  tcp?: number;
  http?: string;
  exec?: string[];
  /** ms */
  timeout: number;
}

export interface ServiceSettings extends Isolation {
  restart: { policy: RestartPolicy; delay: number; maxDelay: number; resetAfter: number };
  ready?: ReadySettings;
  dependsOn: string[];
}
