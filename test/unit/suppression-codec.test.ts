import { describe, expect, it } from 'vitest';
import {
  decodeDetail,
  decodeRecord,
  decodeSummary,
  encodeDetailJson,
  encodeSummary,
  isLive,
} from '../../src/suppression/codec.js';
import { bucketOf, createSuppressionKeys, SUPPRESSION_BUCKET_COUNT } from '../../src/suppression/keys.js';
import { decodeCursor, encodeCursor } from '../../src/suppression/list.js';
import { isHashedAddress, redactAddresses } from '../../src/suppression/privacy.js';

const NOV_1 = Date.UTC(2026, 10, 1);
const keep = (text: string) => text;

describe('suppression codec', () => {
  it('encodes a summary in a few bytes and reads it back', () => {
    const summary = encodeSummary('bounce', NOV_1);
    expect(summary.length).toBeLessThanOrEqual(9);
    expect(decodeSummary(summary)).toEqual({ reason: 'bounce', since: NOV_1 });
    expect(decodeSummary(encodeSummary('complaint', NOV_1, NOV_1 + 1000))).toEqual({
      reason: 'complaint',
      since: NOV_1,
      expiresAt: NOV_1 + 1000,
    });
  });

  it('rejects an unknown reason and a malformed summary', () => {
    expect(() => encodeSummary('spam' as never, NOV_1)).toThrow(TypeError);
    expect(() => decodeSummary('x123')).toThrow(/malformed/);
  });

  it('treats an entry as live until its expiry time', () => {
    const hit = decodeSummary(encodeSummary('manual', NOV_1, NOV_1 + 10));
    expect(isLive(hit, NOV_1 + 9)).toBe(true);
    expect(isLive(hit, NOV_1 + 10)).toBe(false);
    expect(isLive({ reason: 'manual', since: NOV_1 }, Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('stores no detail JSON for an event without details', () => {
    expect(encodeDetailJson({ reason: 'imported', at: NOV_1 }, keep)).toBe('');
  });

  it('round-trips details through short JSON keys', () => {
    const json = encodeDetailJson(
      { reason: 'bounce', bounceType: 'Permanent', bounceSubType: 'General', diagnosticCode: 'smtp; 550' },
      keep,
    );
    expect(json).toBe('{"bt":"Permanent","bs":"General","dc":"smtp; 550"}');
    const record = decodeRecord(
      'jane@example.com',
      encodeSummary('bounce', NOV_1),
      `3,${(NOV_1 + 5).toString(36)},${json}`,
    );
    expect(record).toEqual({
      address: 'jane@example.com',
      reason: 'bounce',
      bounceType: 'Permanent',
      bounceSubType: 'General',
      diagnosticCode: 'smtp; 550',
      firstSeen: NOV_1,
      lastSeen: NOV_1 + 5,
      count: 3,
    });
  });

  it('derives count 1 and lastSeen = firstSeen when there is no detail record', () => {
    expect(decodeRecord('a@b.c', encodeSummary('imported', NOV_1), null)).toEqual({
      address: 'a@b.c',
      reason: 'imported',
      firstSeen: NOV_1,
      lastSeen: NOV_1,
      count: 1,
    });
    expect(decodeDetail(`2,${NOV_1.toString(36)},`)).toEqual({ count: 2, lastSeen: NOV_1, details: {} });
  });
});

describe('suppression keys and cursors', () => {
  it('puts every key under the prefix and one hash tag', () => {
    const keys = createSuppressionKeys('relay');
    const all = [keys.summary(7), keys.detail(7), keys.expiry, keys.entries, keys.softBounces('a@b.c')];
    for (const key of all) expect(key.startsWith('relay:supp:{relay}:')).toBe(true);
    expect(createSuppressionKeys('{relay}').summary(1)).toBe('{relay}:supp:s:1');
  });

  it('spreads fields evenly over the buckets', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 200_000; i++) {
      const bucket = bucketOf(`user${i}@example.com`);
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
    const buckets = [...counts.keys()];
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(SUPPRESSION_BUCKET_COUNT);
    expect(buckets.every(Number.isInteger)).toBe(true);
    // ~6 per bucket on average; a listpack bucket must stay far below 128 entries.
    expect(counts.size).toBeGreaterThan(SUPPRESSION_BUCKET_COUNT * 0.99);
    expect(Math.max(...counts.values())).toBeLessThan(25);
  });

  it('round-trips a cursor and refuses a forged one', () => {
    const position = { bucket: 123, after: 'a:b@example.com' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(decodeCursor(undefined)).toEqual({ bucket: 0, after: '' });
    expect(() => decodeCursor('not-a-cursor')).toThrow(RangeError);
    expect(() => decodeCursor(Buffer.from(`${SUPPRESSION_BUCKET_COUNT}:`).toString('base64url'))).toThrow(
      RangeError,
    );
  });
});

describe('privacy helpers', () => {
  it('tells an HMAC hex from an address', () => {
    expect(isHashedAddress('a'.repeat(64))).toBe(true);
    expect(isHashedAddress('jane@example.com')).toBe(false);
    expect(isHashedAddress('A'.repeat(64))).toBe(false);
  });

  it('removes addresses from free text', () => {
    expect(redactAddresses('smtp; 550 5.1.1 <Jane.Doe@Example.com>: Recipient address rejected')).toBe(
      'smtp; 550 5.1.1 <[address]>: Recipient address rejected',
    );
    expect(redactAddresses('user jane@example.com unknown, also x@y')).toBe(
      'user [address] unknown, also [address]',
    );
  });
});
