import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionStore, type SuppressionStore } from '../../src/suppression/index.js';
import { deleteKeys, startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';

// A private redis-server: these tests read server-wide command statistics and flush the script cache,
// which must not disturb other tests on the shared server.
describe('suppression store: round trips and script cache', () => {
  const prefix = uniquePrefix('supp-rt');
  let server: PrivateRedis;
  let redis: Redis;
  let store: SuppressionStore;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    store = createSuppressionStore({ redis, prefix });
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
    await server.stop();
  });

  /** Calls per command since the last RESETSTAT; commands run inside a script are counted too. */
  async function commandCalls(): Promise<Record<string, number>> {
    const stats = await redis.info('commandstats');
    const calls: Record<string, number> = {};
    for (const [, name, n] of stats.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)) calls[name!] = Number(n);
    return calls;
  }

  it('checks 50 addresses with one command', async () => {
    const addresses = Array.from({ length: 50 }, (_, i) => `user${i}@example.com`);
    await store.importMany(
      addresses.slice(0, 25).map((address) => ({ address, details: { reason: 'manual' } })),
    );
    await store.checkMany(addresses.slice(0, 2)); // loads the script, as the first call after a restart does
    await redis.config('RESETSTAT');
    const hits = await store.checkMany(addresses);
    // One script call, whose 50 HGETs run inside Redis; nothing else was sent.
    const calls = await commandCalls();
    expect(calls.evalsha).toBe(1);
    expect(calls.hget).toBe(50);
    expect(Object.keys(calls).sort()).toEqual(['config|resetstat', 'evalsha', 'hget']);
    expect(hits.filter((hit) => hit !== null)).toHaveLength(25);
  });

  it('keeps working after the script cache is flushed (a Redis restart or failover)', async () => {
    await redis.script('FLUSH');
    expect(await store.checkMany(['user1@example.com', 'user49@example.com'])).toEqual([
      expect.objectContaining({ reason: 'manual' }),
      null,
    ]);
    await redis.script('FLUSH');
    expect(await store.suppress('new@example.com', { reason: 'manual' })).toMatchObject({ count: 1 });
    await redis.script('FLUSH');
    expect(await store.remove('new@example.com')).toBe(true);
  });
});
