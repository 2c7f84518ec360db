// prom-client's default process and Node metrics, all but its event-loop lag (always sampling): loop-lag.ts stands in for that one.
import type { Registry } from 'prom-client';

import { registerLoopLag } from './loop-lag';

/** prom-client's collectors as its collectDefaultMetrics() lists them, without eventLoopLag. */
const COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  ...(typeof (process as { getActiveResourcesInfo?: unknown }).getActiveResourcesInfo === 'function' ? ['processResources'] : []),
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
];

type Collector = (registry: Registry, config: object) => void;

/** Registers the default metrics on `registry`; stop() ends the loop sampling if a scrape started it. */
export function registerNodeMetrics(registry: Registry): ReturnType<typeof registerLoopLag> {
  for (const name of COLLECTORS) (require(`prom-client/lib/metrics/${name}`) as Collector)(registry, {});
  return registerLoopLag(registry);
}
