import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addCumulative, createChildSnapshots, type MetricsJson } from '../../src/metrics/child-snapshots.js';

/** A child process's registry: one counter, one labelled counter, one histogram, one gauge. */
function childRegistry() {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    accepted: new Counter({ registers, name: 'accepted_total', help: 'h' }),
    refused: new Counter({ registers, name: 'refused_total', help: 'h', labelNames: ['reason'] }),
    latency: new Histogram({ registers, name: 'latency_seconds', help: 'h', buckets: [1] }),
    sessions: new Gauge({ registers, name: 'sessions', help: 'h' }),
    snapshot: () => registry.getMetricsAsJSON() as Promise<MetricsJson>,
  };
}

/** What the primary renders: its own (empty) metrics summed with the children's. */
async function summed(snapshots: MetricsJson[]): Promise<Map<string, number>> {
  const text = await AggregatorRegistry.aggregate([[], ...snapshots]).metrics();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, value] = line.split(' ');
    samples.set(name!, Number(value));
  }
  return samples;
}

describe('SMTP child metrics as the primary sums them', () => {
  it('keeps a late child at its last snapshot and a dead child at its final counts', async () => {
    const book = createChildSnapshots();
    const a = childRegistry();
    const b = childRegistry();
    a.accepted.inc(5);
    a.refused.inc({ reason: 'size' }, 2);
    a.latency.observe(0.5);
    a.sessions.set(3);
    b.accepted.inc(7);
    book.record(1, await a.snapshot());
    book.record(2, await b.snapshot());
    const live = (ids: number[]) => ids.map((id) => book.latest(id)!);
    const first = await summed([...live([1, 2]), book.retired()]);
    expect(first.get('accepted_total')).toBe(12);

    // Child 2 misses the scrape's deadline: its last snapshot stands in.
    a.accepted.inc(1);
    book.record(1, await a.snapshot());
    expect((await summed([...live([1, 2]), book.retired()])).get('accepted_total')).toBe(13);

    // Child 1 dies; its replacement (child 3) starts from zero.
    book.retire(1);
    const c = childRegistry();
    c.accepted.inc(1);
    book.record(3, await c.snapshot());
    const after = await summed([...live([2, 3]), book.retired()]);
    expect(after.get('accepted_total')).toBe(14);
    expect(after.get('refused_total{reason="size"}')).toBe(2);
    expect(after.get('latency_seconds_count')).toBe(1);
    expect(after.get('latency_seconds_bucket{le="1"}')).toBe(1);
    // A gauge described the dead process only.
    expect(after.get('sessions')).toBe(0);
    expect(book.latest(1)).toBeUndefined();
  });

  it('adds retired counts sample by sample, whatever the label order, and leaves gauges out', async () => {
    const a = childRegistry();
    a.refused.inc({ reason: 'size' }, 2);
    a.refused.inc({ reason: 'auth' }, 1);
    a.sessions.set(9);
    const b = childRegistry();
    b.refused.inc({ reason: 'auth' }, 4);
    const total = addCumulative(addCumulative([], await a.snapshot()), await b.snapshot());
    expect(total.map((metric) => metric.name).sort()).toEqual([
      'accepted_total',
      'latency_seconds',
      'refused_total',
    ]);
    const refused = total.find((metric) => metric.name === 'refused_total')!;
    expect(Object.fromEntries(refused.values.map((v) => [v.labels.reason, v.value]))).toEqual({
      size: 2,
      auth: 5,
    });
  });

  it('retires nothing for a child that never answered', () => {
    const book = createChildSnapshots();
    book.retire(4);
    expect(book.retired()).toEqual([]);
  });
});
