// The primary's book of its SMTP child processes' metrics (SMTP_PROCESSES > 1). Summed counters
// must never go down, yet a child may answer a scrape late (then its last snapshot stands in) or
// die (its replacement starts from 0). A dead child's last counters and histograms therefore move
// into a retired total that is summed with the live children from then on. Gauges of a dead child
// are dropped: they described a process that is gone.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
type MetricJson = MetricsJson[number];
type SampleJson = MetricJson['values'][number] & { metricName?: string };

/** Only what only grows and adds up across processes. */
function isCumulative(metric: MetricJson): boolean {
  // prom-client's typings declare `type` a numeric enum; at run time it is 'counter', 'gauge'…
  const type = String(metric.type);
  return (type === 'counter' || type === 'histogram') && metric.aggregator === 'sum';
}

function sampleKey(sample: SampleJson): string {
  const labels = Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${sample.metricName ?? ''}\u0000${JSON.stringify(labels)}`;
}

/** `total` plus the cumulative metrics of `snapshot`, sample by sample; a new array. */
export function addCumulative(total: MetricsJson, snapshot: MetricsJson): MetricsJson {
  const byName = new Map(
    total.map((metric) => [metric.name, { ...metric, values: metric.values.map((v) => ({ ...v })) }]),
  );
  for (const metric of snapshot.filter(isCumulative)) {
    const sum = byName.get(metric.name) ?? { ...metric, values: [] };
    byName.set(metric.name, sum);
    const samples = new Map(sum.values.map((sample) => [sampleKey(sample), sample]));
    for (const sample of metric.values) {
      const existing = samples.get(sampleKey(sample));
      if (existing) existing.value += sample.value;
      else sum.values.push({ ...sample });
    }
  }
  return [...byName.values()];
}

export interface ChildSnapshots {
  /** A child's fresh snapshot. */
  record(childId: number, snapshot: MetricsJson): void;
  /** The child is gone: its last counts join the retired total. */
  retire(childId: number): void;
  /** The snapshot to use for a child: its last one, fresh or not (undefined before its first). */
  latest(childId: number): MetricsJson | undefined;
  /** The dead children's counts, summed; empty while none has died. */
  retired(): MetricsJson;
  /**
   * What a scrape sums: every live child's last snapshot, and the retired total once a child has
   * died. Read at one moment, so a child that dies during a scrape counts once, in one or the other.
   */
  current(): MetricsJson[];
}

export function createChildSnapshots(): ChildSnapshots {
  const last = new Map<number, MetricsJson>();
  let retired: MetricsJson = [];
  return {
    record(childId, snapshot) {
      last.set(childId, snapshot);
    },
    retire(childId) {
      const snapshot = last.get(childId);
      last.delete(childId);
      if (snapshot) retired = addCumulative(retired, snapshot);
    },
    latest: (childId) => last.get(childId),
    retired: () => retired,
    current: () => (retired.length > 0 ? [...last.values(), retired] : [...last.values()]),
  };
}
