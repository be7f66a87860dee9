// The entry count never drifts from what the buckets hold: after any mix of adds (two spellings of
// one address), removes, imports, soft bounces, expiries, sweeps and re-adds, `count()` equals a
// recount of the live entries, the stored counter equals the stored entries, and the expiry index
// holds exactly the entries that carry an expiry, at their expiry time.
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSummary, isLive } from '../../src/suppression/codec.js';
import { bucketOf, createSuppressionKeys } from '../../src/suppression/keys.js';
import { NOV_1_2026, suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-counts');
afterAll(() => fx.close());

const ADDRESSES = Array.from({ length: 8 }, (_, i) => `user${i}@example.com`);
const REASONS = ['bounce', 'complaint', 'manual', 'imported'] as const;
const STEPS = 300;

/** A small seeded generator, so a failure replays the same steps. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

describe('suppression store: counts against a recount', () => {
  it('stays exact through a long mix of writes, expiries and sweeps', async () => {
    fx.clock = NOV_1_2026;
    const store = fx.store('mix');
    const keys = createSuppressionKeys(`${fx.prefix}:mix`);
    const buckets = [...new Set(ADDRESSES.map(bucketOf))];
    const pick = random(20261101);

    async function recount() {
      const hashes = await Promise.all(buckets.map((b) => fx.redis.hgetall(keys.summary(b))));
      const expiring = new Map<string, number>();
      let live = 0;
      let stored = 0;
      for (const hash of hashes) {
        for (const [field, summary] of Object.entries(hash)) {
          const hit = decodeSummary(summary);
          stored++;
          if (isLive(hit, fx.clock)) live++;
          if (hit.expiresAt !== undefined) expiring.set(field, hit.expiresAt);
        }
      }
      const index = await fx.redis.zrange(keys.expiry, '0', '-1', 'WITHSCORES');
      const indexed = new Map<string, number>();
      for (let i = 0; i < index.length; i += 2) indexed.set(index[i]!, Number(index[i + 1]));
      return { live, stored, expiring, indexed, counter: Number((await fx.redis.get(keys.entries)) ?? 0) };
    }

    for (let step = 0; step < STEPS; step++) {
      const address = ADDRESSES[pick(ADDRESSES.length)]!;
      const expiresAt = pick(2) === 0 ? fx.clock + 1 + pick(5000) : undefined;
      const at = pick(3) === 0 ? fx.clock - pick(3000) : undefined;
      const times = {
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(at === undefined ? {} : { at }),
      };
      switch (pick(7)) {
        case 0:
          await store.suppress(address, { reason: REASONS[pick(REASONS.length)]!, ...times });
          break;
        case 1:
          await store.remove(pick(2) === 0 ? address : address.toUpperCase());
          break;
        case 2:
          await store.sweepExpired(1 + pick(3));
          break;
        case 3:
          await store.recordSoftBounce(address, {
            windowMs: 10_000,
            limit: 2,
            suppressForMs: 1 + pick(3000),
            ...(at === undefined ? {} : { at }),
          });
          break;
        case 4:
          await store.importMany([
            { address, details: { reason: 'imported', ...times } },
            { address: `"${address.replace('@', '"@')}`, details: { reason: 'bounce' } },
          ]);
          break;
        default:
          fx.clock += pick(40_000);
      }
      const recounted = await recount();
      const where = `step ${step}`;
      expect(await store.count(), where).toBe(recounted.live);
      expect(recounted.counter, where).toBe(recounted.stored);
      expect(recounted.indexed, where).toEqual(recounted.expiring);
    }
  });
});
