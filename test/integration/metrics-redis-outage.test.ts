// /metrics and /readyz while Redis is down: both answer promptly (every collector has a deadline and
// reads on a connection that fails fast), ses_relay_redis_up says 0, and gauges read from Redis are
// left out rather than repeating their last values. Once Redis is back, everything returns.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

/** The collectors' deadline is 2 s; the rest is room for a busy machine. */
const PROMPT_MS = 5000;

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('metrics and readiness during a Redis outage', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await redis.start().catch(() => undefined);
    await gw?.stop();
    await redis.stop();
  });

  const scrape = async () => {
    const startedAt = Date.now();
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`, {
      signal: AbortSignal.timeout(15_000),
    });
    return { ms: Date.now() - startedAt, status: res.status, samples: samples(await res.text()) };
  };

  it('answers a scrape promptly with redis_up 0 and no stale gauges, and recovers with Redis', async () => {
    const before = await scrape();
    expect(before.samples.get('ses_relay_redis_up')).toBe(1);
    expect(before.samples.has('ses_relay_queue_jobs{state="waiting"}')).toBe(true);
    expect(before.samples.has('ses_relay_quota_headroom')).toBe(true);

    await redis.kill();
    const during = await scrape();
    expect(during.status).toBe(200);
    expect(during.ms).toBeLessThan(PROMPT_MS);
    expect(during.samples.get('ses_relay_redis_up')).toBe(0);
    for (const name of [
      'ses_relay_queue_jobs{state="waiting"}',
      'ses_relay_queue_oldest_waiting_seconds',
      'ses_relay_quota_headroom',
      'ses_relay_suppression_list_size',
      'ses_relay_reputation_recipients',
      'ses_relay_sending_held{by="ses"}',
    ]) {
      expect(during.samples.has(name), name).toBe(false);
    }
    // Counters are the process's own and stay.
    expect(during.samples.has('ses_relay_ses_calls_total{outcome="sent"}')).toBe(true);

    const startedAt = Date.now();
    const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`, {
      signal: AbortSignal.timeout(15_000),
    });
    expect(Date.now() - startedAt).toBeLessThan(PROMPT_MS);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not-ready', problems: ['redis: unreachable'] });

    await redis.start();
    await waitFor(
      async () => {
        const after = await scrape();
        return (
          after.samples.get('ses_relay_redis_up') === 1 &&
          after.samples.has('ses_relay_queue_jobs{state="waiting"}') &&
          after.samples.has('ses_relay_quota_headroom')
        );
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the gauges to come back with Redis' },
    );
    expect((await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`)).status).toBe(200);
  });

  it('answers within the deadline when Redis accepts commands but does not answer them', async () => {
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
    try {
      await waitFor(async () => (await admin.ping().catch(() => '')) === 'PONG');
      // Every client's commands wait (PING included) until the pause ends.
      await admin.call('CLIENT', 'PAUSE', '6000', 'ALL');
      const during = await scrape();
      expect(during.ms).toBeLessThan(PROMPT_MS);
      expect(during.samples.get('ses_relay_redis_up')).toBe(0);
      expect(during.samples.has('ses_relay_queue_jobs{state="waiting"}')).toBe(false);
      await waitFor(async () => (await scrape()).samples.get('ses_relay_redis_up') === 1, {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: 'Redis to answer again',
      });
    } finally {
      admin.disconnect();
    }
  });
});
