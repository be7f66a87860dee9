// Expiring entries: an entry whose expiry is already past suppresses nobody, so it is neither
// written nor counted as added (and cannot lift a live entry); entries that have expired are deleted
// by the store itself as it writes, so a list fed by soft bounces does not grow without end.
import { afterAll, describe, expect, it } from 'vitest';
import { createSuppressionKeys } from '../../src/suppression/keys.js';
import { DAY_MS, NOV_1_2026, suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-expiry');
afterAll(() => fx.close());

const MINUTE_MS = 60_000;

describe('suppression store: an expiry already past', () => {
  it('is refused by suppress, which writes nothing', async () => {
    fx.clock = NOV_1_2026;
    const store = fx.store('past-add');
    await expect(
      store.suppress('past@example.com', { reason: 'manual', expiresAt: NOV_1_2026 - 1 }),
    ).rejects.toThrow(TypeError);
    await expect(
      store.suppress('now@example.com', { reason: 'manual', expiresAt: NOV_1_2026 }),
    ).rejects.toThrow(/expiresAt/);
    expect(await store.count()).toBe(0);
    expect([...(await fx.dump('past-add')).keys()]).toEqual([]);
  });

  it('makes an import record invalid, not added, and leaves a live entry suppressed', async () => {
    fx.clock = NOV_1_2026;
    const store = fx.store('past-import');
    await store.suppress('kept@example.com', { reason: 'manual' });
    const result = await store.importMany([
      { address: 'gone@example.com', details: { reason: 'imported', expiresAt: NOV_1_2026 - DAY_MS } },
      { address: 'kept@example.com', details: { reason: 'imported', expiresAt: NOV_1_2026 - DAY_MS } },
      { address: 'live@example.com', details: { reason: 'imported', expiresAt: NOV_1_2026 + DAY_MS } },
    ]);
    expect(result).toEqual({ added: 1, updated: 0, invalid: 2 });
    expect(await store.isSuppressed('kept@example.com')).toBe(true);
    expect(await store.get('kept@example.com')).toMatchObject({ reason: 'manual', count: 1 });
    expect(await store.get('gone@example.com')).toBeNull();
    const dump = [...(await fx.dump('past-import')).values()].join('\n');
    expect(dump).not.toContain('gone@example.com');
    expect(await store.count()).toBe(2);
  });
});

describe('suppression store: expired entries are deleted as the store writes', () => {
  it('sweeps expired entries on a later write, so they stop taking memory', async () => {
    fx.clock = NOV_1_2026;
    const store = fx.store('self-sweep');
    const keys = createSuppressionKeys(`${fx.prefix}:self-sweep`);
    for (let i = 0; i < 3; i++) {
      await store.suppress(`soft${i}@example.com`, {
        reason: 'bounce',
        diagnosticCode: 'mailbox full',
        expiresAt: NOV_1_2026 + MINUTE_MS,
      });
    }
    await store.suppress('hard@example.com', { reason: 'bounce' });
    expect(await fx.redis.zcard(keys.expiry)).toBe(3);

    fx.clock = NOV_1_2026 + 7 * DAY_MS;
    expect(await store.count()).toBe(1);
    await store.recordSoftBounce('other@example.com', { windowMs: DAY_MS, limit: 3 });

    const dump = [...(await fx.dump('self-sweep')).entries()];
    expect(dump.filter(([, value]) => value.includes('soft'))).toEqual([]);
    expect(await fx.redis.zcard(keys.expiry)).toBe(0);
    expect(await fx.redis.get(keys.entries)).toBe('1');
    expect(await store.isSuppressed('hard@example.com')).toBe(true);
  });

  it('sweeps from imports too, and leaves entries that have not expired', async () => {
    fx.clock = NOV_1_2026;
    const store = fx.store('import-sweep');
    await store.suppress('short@example.com', { reason: 'manual', expiresAt: NOV_1_2026 + MINUTE_MS });
    await store.suppress('long@example.com', { reason: 'manual', expiresAt: NOV_1_2026 + DAY_MS });

    fx.clock = NOV_1_2026 + 2 * MINUTE_MS;
    await store.importMany([{ address: 'new@example.com', details: { reason: 'imported' } }]);
    const dump = [...(await fx.dump('import-sweep')).values()].join('\n');
    expect(dump).not.toContain('short@example.com');
    expect(dump).toContain('long@example.com');
    expect(await store.count()).toBe(2);
  });
});
