// Shared set-up of the suppression integration tests: the shared test Redis, one key prefix per test
// file (each store in it gets its own sub-prefix), and a settable clock so expiry needs no sleeps.
import { Redis } from 'ioredis';
import { createSuppressionStore, type SuppressionStore } from '../../src/suppression/index.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

export const NOV_1_2026 = Date.UTC(2026, 10, 1);
export const DAY_MS = 24 * 60 * 60 * 1000;

export interface SuppressionFixture {
  readonly redis: Redis;
  readonly prefix: string;
  /** The stores' clock in epoch ms; tests move it. */
  clock: number;
  store(name: string, options?: { hashKey?: Buffer | string }): SuppressionStore;
  /** All keys and values under one store's prefix, as text. */
  dump(name: string): Promise<Map<string, string>>;
  close(): Promise<void>;
}

async function dumpKey(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, '-1', 'WITHSCORES'));
    case 'string':
      return (await redis.get(key)) ?? '';
    default:
      throw new Error(`unexpected key type ${type} for ${key}`);
  }
}

export function suppressionFixture(name: string): SuppressionFixture {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = uniquePrefix(name);
  const fixture: SuppressionFixture = {
    redis,
    prefix,
    clock: NOV_1_2026,
    store: (storeName, options = {}) =>
      createSuppressionStore({
        redis,
        prefix: `${prefix}:${storeName}`,
        now: () => fixture.clock,
        ...options,
      }),
    async dump(storeName) {
      const keys = await redis.keys(`${prefix}:${storeName}:*`);
      const entries = await Promise.all(keys.map(async (key) => [key, await dumpKey(redis, key)] as const));
      return new Map(entries);
    },
    async close() {
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
  return fixture;
}
