import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { clearGauge, runCollectors } from '../../src/metrics/collectors.js';
import { REFUSAL_REASONS, SES_CALL_OUTCOMES } from '../../src/metrics/label-values.js';
import { createMetrics } from '../../src/metrics/metrics.js';

const names = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name);

describe('metrics registry', () => {
  it('registers a role group only when the role runs, so no process exports gauges it never sets', async () => {
    const metrics = createMetrics();
    expect(await names(metrics)).not.toContain('ses_relay_quota_headroom');
    metrics.enable('http');
    const http = await names(metrics);
    expect(http).toContain('ses_relay_queue_jobs');
    expect(http).toContain('ses_relay_redis_up');
    for (const name of ['ses_relay_quota_headroom', 'ses_relay_pacing_rate', 'ses_relay_ses_calls_total'])
      expect(http).not.toContain(name);
    expect(http).not.toContain('ses_relay_messages_accepted_total');
    metrics.enable('worker');
    metrics.enable('worker');
    expect(await names(metrics)).toContain('ses_relay_quota_headroom');
  });

  it('starts labelled counters at 0 for every known label, so the first event is an increase', async () => {
    const metrics = createMetrics();
    metrics.enable('smtp');
    metrics.enable('worker');
    const text = await metrics.registry.metrics();
    for (const outcome of SES_CALL_OUTCOMES)
      expect(text).toContain(`ses_relay_ses_calls_total{outcome="${outcome}"} 0`);
    for (const reason of REFUSAL_REASONS)
      expect(text).toContain(`ses_relay_messages_refused_total{reason="${reason}"} 0`);
    expect(text).toContain('ses_relay_recipients_suppressed_total{stage="rcpt"} 0');
    expect(text).toContain('ses_relay_recipients_suppressed_total{stage="send"} 0');
  });
});

describe('collectors', () => {
  function gauges() {
    const registry = new Registry();
    return {
      registry,
      plain: new Gauge({ registers: [registry], name: 'plain', help: 'h' }),
      labelled: new Gauge({ registers: [registry], name: 'labelled', help: 'h', labelNames: ['state'] }),
    };
  }

  it('clears the gauges of a collector that fails: no sample rather than an old one or 0', async () => {
    const { registry, plain, labelled } = gauges();
    plain.set(5);
    labelled.set({ state: 'waiting' }, 3);
    await runCollectors([
      { name: 'broken', gauges: [plain, labelled], collect: () => Promise.reject(new Error('down')) },
    ]);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE plain gauge');
    expect(text).not.toMatch(/^plain /m);
    expect(text).not.toMatch(/^labelled\{/m);
  });

  it('gives up on a collector that does not answer within its deadline, and keeps the others', async () => {
    const { registry, plain, labelled } = gauges();
    plain.set(5);
    const startedAt = Date.now();
    await runCollectors(
      [
        { name: 'hung', gauges: [plain], collect: () => new Promise<void>(() => undefined) },
        {
          name: 'fine',
          gauges: [labelled],
          collect: () => Promise.resolve(labelled.set({ state: 'active' }, 2)),
        },
      ],
      100,
    );
    expect(Date.now() - startedAt).toBeLessThan(1000);
    const text = await registry.metrics();
    expect(text).not.toMatch(/^plain /m);
    expect(text).toContain('labelled{state="active"} 2');
  });

  it('clearGauge removes the value of labelled and unlabelled gauges alike', async () => {
    const { registry, plain, labelled } = gauges();
    plain.set(1);
    labelled.set({ state: 'x' }, 1);
    clearGauge(plain);
    clearGauge(labelled);
    expect((await registry.getMetricsAsJSON()).map((metric) => metric.values)).toEqual([[], []]);
  });
});
