// Waiting until a started service is ready: sd_notify READY=1, or a probe (TCP, HTTP 2xx, a command inside it) that passes.
import type { ReadyCheck } from '../config/schema';
import { describeProbe, probeOnce, ProbeTarget } from './probes';

const POLL_MS = 100;
/** One try of a ready probe may take this long before it counts as a no. */
const TRY_MS = 2000;

async function poll(check: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Resolves when the service is ready; rejects with a message after `ready.timeout`, or when `signal` aborts
 * (the instance ended or a stop was asked for). `notified` resolves on the first READY=1.
 */
export async function waitReady(ready: ReadyCheck | undefined, target: ProbeTarget, notified: Promise<void>, signal: AbortSignal): Promise<void> {
  if (!ready) return;
  let check: Promise<void>;
  let what: string;
  if (ready.type === 'notify') [check, what] = [notified, 'READY=1 on NOTIFY_SOCKET'];
  else [check, what] = [poll(() => probeOnce(ready, target, Math.min(TRY_MS, ready.timeout), signal), signal), describeProbe(ready)];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready within ${ready.timeout} ms (waiting for ${what})`)), ready.timeout);
  });
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('ended before it was ready')), { once: true }));
  try {
    await Promise.race([check, timeout, aborted]);
  } finally {
    clearTimeout(timer);
  }
}
