import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { hashTagOf, keySlot } from '../../src/shared/hash-tag.js';
import { createKeys } from '../../src/shared/keys.js';
import { createSuppressionKeys } from '../../src/suppression/keys.js';

describe('Redis Cluster hash tags and slots', () => {
  it.each([
    ['{relay}:raw:1', 'relay'],
    ['mail-{eu}:q', 'eu'],
    ['{a{b}c}', 'a{b'],
    ['x}{y}', 'y'],
    ['{}{x}:raw:1', undefined],
    ['{}', undefined],
    ['a{b', undefined],
    ['plain', undefined],
  ])('finds the hash tag of %s as Redis does: %s', (key, tag) => {
    expect(hashTagOf(key)).toBe(tag);
  });

  it("computes Redis's slots (values from the Cluster specification and CLUSTER KEYSLOT)", () => {
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{}{x}')).not.toBe(keySlot('{}{x}:raw:1'));
  });

  it.each(['relay', '{relay}', 'mail-{eu}', 'a}{b}'])(
    'puts every key of a Cluster deployment with REDIS_PREFIX=%s into one slot',
    (given) => {
      const prefix = parseConfig({ REDIS_URL: 'redis-cluster://h:7000', REDIS_PREFIX: given }).REDIS_PREFIX;
      const keys = createKeys(prefix);
      const suppression = createSuppressionKeys(prefix);
      const all = [
        keys.raw('q1'),
        keys.pacer,
        keys.sendingHold,
        keys.userQuota('crm'),
        `${keys.bullPrefix}:outbound:wait`,
        suppression.summary(7),
        suppression.expiry,
        suppression.softBounces('a@b.c'),
      ];
      expect(new Set(all.map(keySlot)).size).toBe(1);
    },
  );

  it.each(['{}{x}', 'a{b', '{}', 'x}'])(
    'refuses REDIS_PREFIX=%s, in which Redis finds no hash tag',
    (prefix) => {
      expect(() => parseConfig({ REDIS_PREFIX: prefix })).toThrow(
        /REDIS_PREFIX: braces must form a hash tag/,
      );
    },
  );
});
