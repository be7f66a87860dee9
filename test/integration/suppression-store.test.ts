import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { RelayError } from '../../src/shared/errors.js';
import type { ImportRecord } from '../../src/suppression/index.js';
import { createSuppressionKeys } from '../../src/suppression/keys.js';
import { DAY_MS, NOV_1_2026, suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-store');
afterAll(() => fx.close());
beforeEach(() => {
  fx.clock = NOV_1_2026;
});

describe('suppression store: checks', () => {
  it('answers a mixed batch in one call, hits with reason and since', async () => {
    const store = fx.store('check');
    await store.suppress('bounced@example.com', { reason: 'bounce', bounceType: 'Permanent' });
    await store.suppress('complained@example.com', { reason: 'complaint', at: NOV_1_2026 - DAY_MS });
    const hits = await store.checkMany([
      'clean@example.com',
      '"Bounced" <Bounced@EXAMPLE.com>',
      'not an address',
      'complained@example.com',
      'bounced@example.com',
    ]);
    expect(hits).toEqual([
      null,
      { reason: 'bounce', since: NOV_1_2026 },
      null,
      { reason: 'complaint', since: NOV_1_2026 - DAY_MS },
      { reason: 'bounce', since: NOV_1_2026 },
    ]);
    expect(await store.checkMany([])).toEqual([]);
  });

  it('says whether one address is suppressed', async () => {
    const store = fx.store('single');
    await store.suppress('jane@example.com', { reason: 'manual' });
    expect(await store.isSuppressed('JANE@example.com')).toBe(true);
    expect(await store.isSuppressed('john@example.com')).toBe(false);
    expect(await store.isSuppressed('')).toBe(false);
  });
});

describe('suppression store: suppress and get', () => {
  it('returns the stored record, with the details of the event', async () => {
    const store = fx.store('get');
    const details = {
      reason: 'bounce' as const,
      bounceType: 'Permanent',
      bounceSubType: 'NoEmail',
      diagnosticCode: 'smtp; 550 5.1.1 user unknown',
      sesMessageId: '0100018f-aaaa',
      feedbackId: '0100018f-bbbb-000000',
    };
    const record = await store.suppress('Jane <jane@example.com>', details);
    const expected = {
      address: 'jane@example.com',
      ...details,
      firstSeen: NOV_1_2026,
      lastSeen: NOV_1_2026,
      count: 1,
    };
    expect(record).toEqual(expected);
    expect(await store.get('jane@EXAMPLE.com')).toEqual(expected);
    expect(await store.get('nobody@example.com')).toBeNull();
  });

  it('keeps firstSeen, moves lastSeen, counts and takes the latest details on a repeat', async () => {
    const store = fx.store('upsert');
    await store.suppress('jane@example.com', {
      reason: 'bounce',
      bounceType: 'Permanent',
      diagnosticCode: 'first',
    });
    fx.clock += DAY_MS;
    const record = await store.suppress('jane@example.com', {
      reason: 'complaint',
      complaintFeedbackType: 'abuse',
    });
    expect(record).toEqual({
      address: 'jane@example.com',
      reason: 'complaint',
      complaintFeedbackType: 'abuse',
      firstSeen: NOV_1_2026,
      lastSeen: NOV_1_2026 + DAY_MS,
      count: 2,
    });
    expect(await store.checkMany(['jane@example.com'])).toEqual([{ reason: 'complaint', since: NOV_1_2026 }]);
    expect(await store.count()).toBe(1);
  });

  it('does not count the same SES feedback event twice (an SNS redelivery)', async () => {
    const store = fx.store('replay');
    const event = {
      reason: 'bounce' as const,
      bounceType: 'Permanent',
      sesMessageId: '0100018f-aaaa',
      feedbackId: '0100018f-bbbb-000000',
    };
    const first = await store.suppress('jane@example.com', event);
    fx.clock += 60_000;
    expect(await store.suppress('jane@example.com', event)).toEqual(first);
    expect(await store.get('jane@example.com')).toMatchObject({ count: 1, lastSeen: NOV_1_2026 });
    // Another event for the same address (another feedback id) is counted, as is one without an id.
    const next = await store.suppress('jane@example.com', { ...event, feedbackId: '0100018f-cccc-000000' });
    expect(next).toMatchObject({ count: 2, lastSeen: NOV_1_2026 + 60_000 });
    await store.suppress('jane@example.com', { reason: 'manual' });
    await store.suppress('jane@example.com', { reason: 'manual' });
    expect(await store.get('jane@example.com')).toMatchObject({ count: 4 });
  });

  it('does not let an older event overwrite newer details, but counts it and keeps the earliest time', async () => {
    const store = fx.store('order');
    await store.suppress('jane@example.com', { reason: 'complaint', feedbackId: 'new', at: NOV_1_2026 });
    const record = await store.suppress('jane@example.com', {
      reason: 'bounce',
      feedbackId: 'old',
      at: NOV_1_2026 - DAY_MS,
    });
    expect(record).toMatchObject({ reason: 'complaint', feedbackId: 'new', count: 2 });
    expect(record.firstSeen).toBe(NOV_1_2026 - DAY_MS);
    expect(record.lastSeen).toBe(NOV_1_2026);
  });

  it('refuses an invalid address or event', async () => {
    const store = fx.store('invalid');
    await expect(store.suppress('nope', { reason: 'manual' })).rejects.toMatchObject({
      code: 'SMTP_BAD_ADDRESS',
    });
    await expect(store.suppress('nope', { reason: 'manual' })).rejects.toBeInstanceOf(RelayError);
    await expect(store.suppress('a@example.com', { reason: 'spam' as never })).rejects.toThrow(TypeError);
    await expect(store.suppress('a@example.com', { reason: 'manual', at: Number.NaN })).rejects.toThrow(
      TypeError,
    );
    expect(await store.count()).toBe(0);
  });
});

describe('suppression store: remove and count', () => {
  it('removes an entry with its detail and reports whether it was there', async () => {
    const store = fx.store('remove');
    await store.suppress('jane@example.com', {
      reason: 'bounce',
      diagnosticCode: 'x',
      expiresAt: NOV_1_2026 + DAY_MS,
    });
    await store.suppress('john@example.com', { reason: 'manual' });
    expect(await store.count()).toBe(2);
    expect(await store.remove('JANE@example.com')).toBe(true);
    expect(await store.remove('jane@example.com')).toBe(false);
    expect(await store.remove('not an address')).toBe(false);
    expect(await store.get('jane@example.com')).toBeNull();
    expect(await store.count()).toBe(1);
    const keys = [...(await fx.dump('remove')).entries()].filter(([, value]) => value.includes('jane'));
    expect(keys).toEqual([]);
  });
});

describe('suppression store: expiry', () => {
  it('treats an expired entry as absent, then sweeps it', async () => {
    const store = fx.store('expiry');
    await store.suppress('temp@example.com', { reason: 'bounce', expiresAt: NOV_1_2026 + DAY_MS });
    await store.suppress('perm@example.com', { reason: 'bounce' });
    expect(await store.checkMany(['temp@example.com'])).toEqual([
      { reason: 'bounce', since: NOV_1_2026, expiresAt: NOV_1_2026 + DAY_MS },
    ]);
    expect(await store.sweepExpired()).toBe(0);

    fx.clock = NOV_1_2026 + DAY_MS;
    expect(await store.checkMany(['temp@example.com', 'perm@example.com'])).toEqual([
      null,
      { reason: 'bounce', since: NOV_1_2026 },
    ]);
    expect(await store.get('temp@example.com')).toBeNull();
    expect(await store.remove('temp@example.com')).toBe(false);
    expect(await store.count()).toBe(1);
  });

  it('deletes expired entries up to the limit and leaves live ones', async () => {
    const store = fx.store('sweep');
    for (let i = 0; i < 5; i++) {
      await store.suppress(`temp${i}@example.com`, { reason: 'bounce', expiresAt: NOV_1_2026 + 1 + i });
    }
    await store.suppress('later@example.com', { reason: 'bounce', expiresAt: NOV_1_2026 + DAY_MS });
    fx.clock = NOV_1_2026 + 10;
    expect(await store.count()).toBe(1);
    expect(await store.sweepExpired(3)).toBe(3);
    expect(await store.sweepExpired()).toBe(2);
    expect(await store.sweepExpired()).toBe(0);
    expect(await store.count()).toBe(1);
    expect(await fx.redis.get(createSuppressionKeys(`${fx.prefix}:sweep`).entries)).toBe('1');
    expect(await store.isSuppressed('later@example.com')).toBe(true);
  });

  it('starts a fresh entry when an expired one is suppressed again, and drops the expiry when told', async () => {
    const store = fx.store('renew');
    await store.suppress('jane@example.com', {
      reason: 'bounce',
      expiresAt: NOV_1_2026 + 1,
      diagnosticCode: 'a',
    });
    fx.clock = NOV_1_2026 + 2;
    const renewed = await store.suppress('jane@example.com', { reason: 'manual' });
    expect(renewed).toEqual({
      address: 'jane@example.com',
      reason: 'manual',
      firstSeen: NOV_1_2026 + 2,
      lastSeen: NOV_1_2026 + 2,
      count: 1,
    });
    expect(await store.count()).toBe(1);
    expect(await store.sweepExpired()).toBe(0);
    expect(await store.isSuppressed('jane@example.com')).toBe(true);
  });
});

describe('suppression store: weaker evidence', () => {
  it('never lets a manual entry with an expiry replace a bounce or complaint, nor shorten it', async () => {
    const store = fx.store('weaker');
    await store.suppress('dead@example.com', { reason: 'bounce', bounceType: 'Permanent' });
    await store.suppress('angry@example.com', { reason: 'complaint', complaintFeedbackType: 'abuse' });
    fx.clock = NOV_1_2026 + 1000;
    for (const address of ['dead@example.com', 'angry@example.com']) {
      const after = await store.suppress(address, { reason: 'manual', expiresAt: NOV_1_2026 + DAY_MS });
      expect(after).toMatchObject({ reason: address.startsWith('dead') ? 'bounce' : 'complaint', count: 2 });
      expect(after).not.toHaveProperty('expiresAt');
    }
    fx.clock = NOV_1_2026 + 2 * DAY_MS;
    expect(await store.sweepExpired()).toBe(0);
    expect(await store.isSuppressed('dead@example.com')).toBe(true);
    expect(await store.isSuppressed('angry@example.com')).toBe(true);
  });

  it('keeps a complaint when a bounce follows, and a bounce its longer life', async () => {
    const store = fx.store('ranks');
    await store.suppress('both@example.com', { reason: 'complaint', complaintFeedbackType: 'abuse' });
    await store.suppress('hard@example.com', { reason: 'bounce', bounceType: 'Permanent' });
    fx.clock = NOV_1_2026 + 1000;
    expect(await store.suppress('both@example.com', { reason: 'bounce' })).toMatchObject({
      reason: 'complaint',
      complaintFeedbackType: 'abuse',
    });
    const soft = await store.suppress('hard@example.com', {
      reason: 'bounce',
      expiresAt: NOV_1_2026 + DAY_MS,
    });
    expect(soft).not.toHaveProperty('expiresAt');
  });

  it('lets an operator change a manual entry, expiry included', async () => {
    const store = fx.store('manual-again');
    await store.suppress('op@example.com', { reason: 'manual' });
    fx.clock = NOV_1_2026 + 1000;
    const after = await store.suppress('op@example.com', {
      reason: 'manual',
      expiresAt: NOV_1_2026 + DAY_MS,
    });
    expect(after).toMatchObject({ reason: 'manual', expiresAt: NOV_1_2026 + DAY_MS });
  });
});

describe('suppression store: import', () => {
  it('imports in batches and counts added, updated and invalid records', async () => {
    const store = fx.store('import');
    await store.suppress('existing@example.com', { reason: 'bounce' });
    const records: ImportRecord[] = Array.from({ length: 1234 }, (_, i) => ({
      address: `user${i}@example.com`,
      details: { reason: 'imported' },
    }));
    records.push(
      { address: 'existing@example.com', details: { reason: 'imported' } },
      { address: 'not an address', details: { reason: 'imported' } },
      { address: 'bad-reason@example.com', details: { reason: 'unknown' as never } },
      { address: 'user1@example.com', details: { reason: 'bounce', bounceType: 'Permanent' } },
    );
    expect(await store.importMany(records)).toEqual({ added: 1234, updated: 2, invalid: 2 });
    expect(await store.count()).toBe(1235);
    expect(await store.get('user1@example.com')).toMatchObject({
      reason: 'bounce',
      bounceType: 'Permanent',
      count: 2,
    });
    expect(await store.get('user7@example.com')).toMatchObject({ reason: 'imported', count: 1 });
    expect(await store.importMany([])).toEqual({ added: 0, updated: 0, invalid: 0 });
  });
});
