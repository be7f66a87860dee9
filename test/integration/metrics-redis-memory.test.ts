// A Redis at maxmemory (noeviction) answers PING but refuses writes: every message gets 451 while
// redis_up says 1. The memory gauges show it coming, and the queue refusals show it happening.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startLocalCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';

const MAX_MEMORY_BYTES = 8 * 1024 * 1024;

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('Redis memory metrics', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startPrivateRedis([
      '--maxmemory',
      String(MAX_MEMORY_BYTES),
      '--maxmemory-policy',
      'noeviction',
    ]);
    client = new Redis(redis.url);
    // The high-water mark would answer 452 at MAIL before the 451 this file looks at.
    gw = await startGateway({ REDIS_URL: redis.url, REDIS_MEMORY_HIGH_WATER: '0' });
  });
  afterAll(async () => {
    await gw?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  const scrape = async () => samples(await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text());
  const node = () => `{node="127.0.0.1:${redis.port}"}`;

  it("reports the master's used memory and its maxmemory", async () => {
    const metrics = await scrape();
    expect(metrics.get(`ses_relay_redis_memory_max_bytes${node()}`)).toBe(MAX_MEMORY_BYTES);
    const used = metrics.get(`ses_relay_redis_memory_used_bytes${node()}`);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(MAX_MEMORY_BYTES);
  });

  it('shows a full Redis (used over max) while intake answers 451 and redis_up stays 1', async () => {
    // Under noeviction Redis refuses writes while used memory is over maxmemory: lower the limit
    // under what Redis holds now (nothing is evicted).
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    await client.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    try {
      const result = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: ['user@example.net'],
        message: simpleMessage(),
      });
      expect(result.data?.code).toBe(451);
      const metrics = await scrape();
      expect(metrics.get('ses_relay_redis_up')).toBe(1);
      expect(metrics.get('ses_relay_messages_refused_total{reason="queue"}')).toBe(1);
      expect(metrics.get(`ses_relay_redis_memory_used_bytes${node()}`)).toBeGreaterThan(
        metrics.get(`ses_relay_redis_memory_max_bytes${node()}`)!,
      );
    } finally {
      await client.config('SET', 'maxmemory', String(MAX_MEMORY_BYTES));
    }
  });

  it('shows a maxmemory-policy that may evict queued mail, set after start-up, and its undoing', async () => {
    expect((await scrape()).get(`ses_relay_redis_may_evict${node()}`)).toBe(0);
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      expect((await scrape()).get(`ses_relay_redis_may_evict${node()}`)).toBe(1);
    } finally {
      await client.config('SET', 'maxmemory-policy', 'noeviction');
    }
    expect((await scrape()).get(`ses_relay_redis_may_evict${node()}`)).toBe(0);
  });

  it('reports 0 as the limit of a Redis without maxmemory', async () => {
    await client.config('SET', 'maxmemory', '0');
    try {
      expect((await scrape()).get(`ses_relay_redis_memory_max_bytes${node()}`)).toBe(0);
    } finally {
      await client.config('SET', 'maxmemory', String(MAX_MEMORY_BYTES));
    }
  });
});

describe('Redis memory metrics on a Cluster', () => {
  let cluster: LocalCluster;
  let gw: TestGateway;
  beforeAll(async () => {
    cluster = await startLocalCluster();
    gw = await startGateway({ REDIS_URL: cluster.url });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await cluster?.stop();
  });

  it('reports every master, each under its own node label (the deployment slot can move to any)', async () => {
    const metrics = samples(await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text());
    for (const master of cluster.nodes) {
      const node = `{node="127.0.0.1:${master.port}"}`;
      expect(metrics.get(`ses_relay_redis_memory_used_bytes${node}`), node).toBeGreaterThan(0);
      expect(metrics.get(`ses_relay_redis_memory_max_bytes${node}`), node).toBe(0);
    }
    const series = [...metrics.keys()].filter((key) => key.startsWith('ses_relay_redis_memory_used_bytes'));
    expect(series).toHaveLength(cluster.nodes.length);
  });
});
