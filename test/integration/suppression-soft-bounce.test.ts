import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionKeys } from '../../src/suppression/keys.js';
import { DAY_MS, NOV_1_2026, suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-soft');
afterAll(() => fx.close());
beforeEach(() => {
  fx.clock = NOV_1_2026;
});

const HOUR_MS = 60 * 60 * 1000;
const policy = { windowMs: DAY_MS, limit: 3 };

describe('suppression store: soft bounces', () => {
  it('suppresses as a transient bounce when the limit is reached inside the window', async () => {
    const store = fx.store('limit');
    const address = 'full@example.com';
    expect(await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 })).toEqual({
      count: 1,
      suppressed: false,
    });
    expect(await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + HOUR_MS })).toEqual({
      count: 2,
      suppressed: false,
    });
    expect(await store.isSuppressed(address)).toBe(false);
    const third = await store.recordSoftBounce(address, {
      ...policy,
      at: NOV_1_2026 + 2 * HOUR_MS,
      details: { bounceSubType: 'MailboxFull', sesMessageId: 'm-3' },
    });
    expect(third).toEqual({ count: 3, suppressed: true });
    expect(await store.get(address)).toEqual({
      address,
      reason: 'bounce',
      bounceType: 'Transient',
      bounceSubType: 'MailboxFull',
      sesMessageId: 'm-3',
      firstSeen: NOV_1_2026 + 2 * HOUR_MS,
      lastSeen: NOV_1_2026 + 2 * HOUR_MS,
      count: 1,
    });
    // Counting stops once the address is suppressed; its window is gone.
    expect(await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + 3 * HOUR_MS })).toEqual({
      count: 0,
      suppressed: true,
    });
    expect(await fx.redis.exists(createSuppressionKeys(`${fx.prefix}:limit`).softBounces(address))).toBe(0);
    expect(await store.count()).toBe(1);
  });

  it('counts only the bounces inside the sliding window', async () => {
    const store = fx.store('window');
    const address = 'sometimes@example.com';
    await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 });
    await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + 12 * HOUR_MS });
    // A day after the first bounce, the first has left the window (at - window, at].
    expect(await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + DAY_MS })).toEqual({
      count: 2,
      suppressed: false,
    });
    expect(await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + DAY_MS + 1 })).toEqual({
      count: 3,
      suppressed: true,
    });
  });

  it('keeps the counter bounded by a TTL of the window', async () => {
    const store = fx.store('ttl');
    const address = 'ttl@example.com';
    await store.recordSoftBounce(address, { windowMs: 5 * 60_000, limit: 5 });
    const ttl = await fx.redis.pttl(createSuppressionKeys(`${fx.prefix}:ttl`).softBounces(address));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5 * 60_000);
  });

  it('forgets the soft bounces on reset and on remove', async () => {
    const store = fx.store('reset');
    const address = 'reset@example.com';
    await store.recordSoftBounce(address, policy);
    await store.recordSoftBounce(address, policy);
    await store.resetSoftBounces('RESET@example.com');
    expect(await store.recordSoftBounce(address, policy)).toEqual({ count: 1, suppressed: false });
    await store.remove(address);
    expect(await store.recordSoftBounce(address, policy)).toEqual({ count: 1, suppressed: false });
    await store.resetSoftBounces('not an address');
  });

  it('forgets on a delivery only the soft bounces from before it (a delivery reported late)', async () => {
    const store = fx.store('late-delivery');
    const address = 'late@example.com';
    await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + 2 * HOUR_MS });
    await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + 3 * HOUR_MS });
    await store.resetSoftBounces(address, NOV_1_2026 + HOUR_MS);
    expect(await store.recordSoftBounce(address, { ...policy, at: NOV_1_2026 + 4 * HOUR_MS })).toEqual({
      count: 3,
      suppressed: true,
    });
  });

  it('lets the resulting suppression expire when told, and does not downgrade a hard suppression', async () => {
    const store = fx.store('expire');
    await store.recordSoftBounce('a@example.com', { windowMs: DAY_MS, limit: 1, suppressForMs: 7 * DAY_MS });
    expect(await store.checkMany(['a@example.com'])).toEqual([
      { reason: 'bounce', since: NOV_1_2026, expiresAt: NOV_1_2026 + 7 * DAY_MS },
    ]);
    fx.clock += 7 * DAY_MS;
    expect(await store.isSuppressed('a@example.com')).toBe(false);

    await store.suppress('hard@example.com', { reason: 'bounce', bounceType: 'Permanent' });
    expect(await store.recordSoftBounce('hard@example.com', { windowMs: DAY_MS, limit: 1 })).toEqual({
      count: 0,
      suppressed: true,
    });
    expect(await store.get('hard@example.com')).toMatchObject({ bounceType: 'Permanent', count: 1 });
  });

  it('refuses an invalid address or policy', async () => {
    const store = fx.store('invalid');
    await expect(store.recordSoftBounce('nope', policy)).rejects.toMatchObject({ code: 'SMTP_BAD_ADDRESS' });
    await expect(store.recordSoftBounce('a@example.com', { windowMs: 0, limit: 3 })).rejects.toThrow(
      RangeError,
    );
    await expect(store.recordSoftBounce('a@example.com', { windowMs: 1000, limit: 0 })).rejects.toThrow(
      RangeError,
    );
  });
});
