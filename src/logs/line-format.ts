// How one line of a service's output is written: ISO-8601 UTC timestamp, "[stderr]" for stderr, the text.
export type LogSource = 'stdout' | 'stderr';

/** `2026-11-29T03:04:05.678Z text`, or `2026-11-29T03:04:05.678Z [stderr] text`. */
export function formatLine(timestamp: string, source: LogSource, text: string): string {
  return source === 'stderr' ? `${timestamp} [stderr] ${text}` : `${timestamp} ${text}`;
}
