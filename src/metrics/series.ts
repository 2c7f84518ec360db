// The series of one service in a prom-client metric, read from its store: for removing them all, whatever the other labels.

/** The label sets of a metric's series that belong to service `name`. */
export function labelSetsOf(metric: object, name: string): Record<string, string>[] {
  const map = (metric as { hashMap?: Record<string, { labels?: Record<string, string> }> }).hashMap ?? {};
  return Object.values(map)
    .map((v) => v.labels ?? {})
    .filter((l) => l.name === name);
}

/** Removes every series of service `name` from the metric. */
export function removeSeriesOf(metric: object, name: string): void {
  const m = metric as { remove(labels: Record<string, string>): void };
  for (const labels of labelSetsOf(metric, name)) m.remove(labels);
}
