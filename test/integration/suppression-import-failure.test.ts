// An import that Redis stops part-way: no batch starts after the failed one, and the counts the
// caller gets say exactly what the written batches held, in the store and in the line importer alike.
import { afterAll, describe, expect, it } from 'vitest';
import { importSuppressions, emptyImportReport } from '../../src/ops/suppressions.js';
import { createSuppressionKeys, bucketOf } from '../../src/suppression/keys.js';
import type { ImportRecord, ImportResult } from '../../src/suppression/index.js';
import { suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-import-failure');
afterAll(() => fx.close());

/** Records per script call in src/suppression/import.ts. */
const BATCH = 500;
const RECORDS = 10 * BATCH;
/** The first record of the fifth batch, which starts only once an earlier one is written. */
const POISONED = 4 * BATCH;

/** Addresses whose buckets are all different from the poisoned one's, and that one. */
function addresses(): string[] {
  const list = Array.from({ length: RECORDS }, (_, i) => `user${i}@example.com`);
  const taken = new Set(list.map(bucketOf));
  let n = 0;
  while (taken.has(bucketOf(`poison${n}@example.com`))) n++;
  list[POISONED] = `poison${n}@example.com`;
  return list;
}

/** A bucket Redis refuses to write (WRONGTYPE), as it would refuse a write when full. */
async function poison(storeName: string, address: string): Promise<void> {
  const keys = createSuppressionKeys(`${fx.prefix}:${storeName}`);
  await fx.redis.set(keys.summary(bucketOf(address)), 'not a hash');
}

describe('suppression import stopped by a Redis error', () => {
  it('reports the batches written, starts no further batch, and leaves what it wrote', async () => {
    const store = fx.store('store');
    const list = addresses();
    await poison('store', list[POISONED]!);
    const records: ImportRecord[] = list.map((address) => ({ address, details: { reason: 'imported' } }));
    const progress: ImportResult = { added: 0, updated: 0, invalid: 0 };
    await expect(store.importMany(records, progress)).rejects.toThrow(/WRONGTYPE/);
    const written = await store.count();
    expect(progress).toEqual({ added: written, updated: 0, invalid: 0 });
    expect(written).toBeGreaterThanOrEqual(POISONED);
    // Batches 9 and 10 start only after the failed fifth has answered.
    expect(written).toBeLessThan(RECORDS - 2 * BATCH);
  });

  it('gives the line importer exact counts for a chunk cut short', async () => {
    const store = fx.store('lines');
    const list = addresses();
    await poison('lines', list[POISONED]!);
    const report = emptyImportReport();
    const lines = ['address,reason', ...list.map((address) => `${address},bounce`)];
    await expect(importSuppressions(store, lines, 'csv', report)).rejects.toThrow(/WRONGTYPE/);
    expect(report.added).toBeGreaterThanOrEqual(POISONED);
    expect(report.added).toBe(await store.count());
  });
});
