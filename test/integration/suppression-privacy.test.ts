import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { exportSuppressions, importSuppressions } from '../../src/ops/suppressions.js';
import { isHashedAddress } from '../../src/suppression/index.js';
import { NOV_1_2026, suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-privacy');
afterAll(() => fx.close());

const HASH_KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const hmac = (address: string) => createHmac('sha256', HASH_KEY).update(address).digest('hex');

describe('suppression store: privacy mode', () => {
  it('checks, removes and imports with plain addresses while storing only hashes', async () => {
    const store = fx.store('flow', { hashKey: HASH_KEY });
    const bounced = await store.suppress('"Jane" <Jane@Example.com>', {
      reason: 'bounce',
      diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>: Recipient address rejected',
    });
    expect(bounced.address).toBe(hmac('jane@example.com'));
    expect(bounced.diagnosticCode).toBe('smtp; 550 5.1.1 <[address]>: Recipient address rejected');
    expect(
      await store.importMany([
        { address: 'imported@example.com', details: { reason: 'imported' } },
        { address: 'nope', details: { reason: 'imported' } },
      ]),
    ).toEqual({ added: 1, updated: 0, invalid: 1 });
    await store.recordSoftBounce('soft@example.com', { windowMs: 60_000, limit: 3 });

    expect(await store.checkMany(['jane@example.com', 'IMPORTED@example.com', 'soft@example.com'])).toEqual([
      { reason: 'bounce', since: NOV_1_2026 },
      { reason: 'imported', since: NOV_1_2026 },
      null,
    ]);
    expect(await store.get('jane@example.com')).toMatchObject({
      address: hmac('jane@example.com'),
      count: 1,
    });
    expect(await store.remove('Imported@Example.com')).toBe(true);
    expect(await store.isSuppressed('imported@example.com')).toBe(false);
  });

  it('lists hashes, which the helper recognises', async () => {
    const store = fx.store('list', { hashKey: 'a string key works too' });
    await store.importMany(
      ['a@example.com', 'b@example.com'].map((address) => ({ address, details: { reason: 'manual' } })),
    );
    const page = await store.list({ limit: 10 });
    expect(page.items).toHaveLength(2);
    for (const item of page.items) expect(isHashedAddress(item.address)).toBe(true);
    const plain = fx.store('list-plain');
    await plain.suppress('a@example.com', { reason: 'manual' });
    const [entry] = (await plain.list({ limit: 10 })).items;
    expect(isHashedAddress(entry!.address)).toBe(false);
  });

  it.each(['csv', 'jsonl'] as const)(
    'imports its own %s export back (hashes in place of addresses); a plain store refuses them',
    async (format) => {
      const source = fx.store(`export-${format}`, { hashKey: HASH_KEY });
      await source.suppress('gone@example.com', { reason: 'bounce' });
      await source.suppress('angry@example.com', { reason: 'complaint' });
      const lines: string[] = [];
      for await (const chunk of exportSuppressions(source, format)) lines.push(...chunk.split('\n'));
      const target = fx.store(`import-${format}`, { hashKey: HASH_KEY });
      const report = await importSuppressions(target, lines, format);
      expect(report).toMatchObject({ added: 2, invalid: 0 });
      expect(await target.checkMany(['gone@example.com', 'angry@example.com'])).toEqual([
        expect.objectContaining({ reason: 'bounce' }),
        expect.objectContaining({ reason: 'complaint' }),
      ]);
      const plain = fx.store(`import-plain-${format}`);
      expect(await importSuppressions(plain, lines, format)).toMatchObject({ added: 0, invalid: 2 });
    },
  );

  it('leaves no plain address anywhere in Redis, in key names or values', async () => {
    const store = fx.store('dump', { hashKey: HASH_KEY });
    const addresses = ['secret.person@example.com', 'other.secret@example.org', 'soft.secret@example.net'];
    await store.suppress(addresses[0]!, {
      reason: 'bounce',
      bounceType: 'Permanent',
      diagnosticCode: `550 user Secret.Person@Example.com unknown`,
      expiresAt: NOV_1_2026 + 1000,
    });
    await store.importMany([{ address: addresses[1]!, details: { reason: 'complaint', feedbackId: 'f-1' } }]);
    await store.recordSoftBounce(addresses[2]!, { windowMs: 60_000, limit: 5 });
    const dump = await fx.dump('dump');
    expect(dump.size).toBeGreaterThanOrEqual(5);
    const everything = [...dump].flat().join('\n').toLowerCase();
    for (const address of addresses) {
      expect(everything).not.toContain(address);
      expect(everything).not.toContain(address.split('@')[0]);
    }
    expect(everything).toContain(hmac(addresses[0]!));
  });

  it('refuses an empty hash key', () => {
    expect(() => fx.store('empty', { hashKey: '' })).toThrow(TypeError);
  });
});
