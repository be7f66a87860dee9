import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { ListOptions, SuppressionStore } from '../../src/suppression/index.js';
import { DAY_MS, NOV_1_2026, suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-list');
afterAll(() => fx.close());
beforeEach(() => {
  fx.clock = NOV_1_2026;
});

async function listAll(store: SuppressionStore, options: Omit<ListOptions, 'cursor'>): Promise<string[]> {
  const addresses: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...options, cursor });
    expect(page.items.length).toBeLessThanOrEqual(options.limit);
    addresses.push(...page.items.map((item) => item.address));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return addresses;
}

const reasons = ['bounce', 'complaint', 'manual', 'imported'] as const;

describe('suppression store: list', () => {
  it('returns every entry exactly once across pages, with full records', async () => {
    const store = fx.store('all');
    const records = Array.from({ length: 250 }, (_, i) => ({
      address: `user${i}@example.com`,
      details: { reason: reasons[i % 4]!, diagnosticCode: `code ${i}`, at: NOV_1_2026 + i },
    }));
    await store.importMany(records);
    const addresses = await listAll(store, { limit: 17 });
    expect(addresses).toHaveLength(250);
    expect(new Set(addresses)).toEqual(new Set(records.map((r) => r.address)));

    const page = await store.list({ limit: 1000 });
    expect(page.nextCursor).toBeUndefined();
    const user3 = page.items.find((item) => item.address === 'user3@example.com');
    expect(user3).toEqual({
      address: 'user3@example.com',
      reason: 'imported',
      diagnosticCode: 'code 3',
      firstSeen: NOV_1_2026 + 3,
      lastSeen: NOV_1_2026 + 3,
      count: 1,
    });
  });

  it('filters by reason and by since, and leaves out expired entries', async () => {
    const store = fx.store('filter');
    await store.importMany(
      Array.from({ length: 120 }, (_, i) => ({
        address: `user${i}@example.com`,
        details: { reason: reasons[i % 4]!, at: NOV_1_2026 - (i % 10) * DAY_MS },
      })),
    );
    await store.suppress('gone@example.com', { reason: 'bounce', expiresAt: NOV_1_2026 + 5 });
    fx.clock = NOV_1_2026 + 5;

    const bounces = await listAll(store, { limit: 7, reason: 'bounce' });
    expect(bounces.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `user${i * 4}@example.com`).sort());
    const recent = await listAll(store, { limit: 7, since: NOV_1_2026 - DAY_MS });
    expect(recent).toHaveLength(24); // i % 10 in {0, 1}
    const recentComplaints = await listAll(store, {
      limit: 50,
      reason: 'complaint',
      since: NOV_1_2026 - DAY_MS,
    });
    expect(recentComplaints.sort()).toEqual(
      [1, 21, 41, 61, 81, 101].map((i) => `user${i}@example.com`).sort(),
    );
  });

  it('stays stable while entries are added and removed between pages', async () => {
    const store = fx.store('stable');
    const initial = Array.from({ length: 200 }, (_, i) => `user${i}@example.com`);
    await store.importMany(initial.map((address) => ({ address, details: { reason: 'manual' } })));
    const seen: string[] = [];
    const removed = new Set<string>();
    let cursor: string | undefined;
    let round = 0;
    do {
      const page = await store.list({ limit: 10, cursor });
      seen.push(...page.items.map((item) => item.address));
      cursor = page.nextCursor;
      // Between pages: add new entries and remove ones that have not been listed yet.
      round++;
      await store.suppress(`new${round}@example.com`, { reason: 'manual' });
      const victim = initial.find((a) => !seen.includes(a) && !removed.has(a));
      if (victim !== undefined && round % 3 === 0) {
        removed.add(victim);
        await store.remove(victim);
      }
    } while (cursor !== undefined);
    const kept = initial.filter((a) => !removed.has(a));
    expect(removed.size).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    for (const address of kept) expect(seen).toContain(address);
    for (const address of removed) expect(seen).not.toContain(address);
  });

  it('ends with an empty page on an empty store and rejects a bad cursor or limit', async () => {
    const store = fx.store('empty');
    expect(await store.list({ limit: 10 })).toEqual({ items: [], nextCursor: undefined });
    await expect(store.list({ limit: 10, cursor: 'garbage' })).rejects.toThrow(RangeError);
    await expect(store.list({ limit: 0 })).rejects.toThrow(RangeError);
  });
});
