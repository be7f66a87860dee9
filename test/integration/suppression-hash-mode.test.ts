// A list written with one SUPPRESSION_HASH_KEY setting matches no recipient under another: turning
// privacy mode on, off, or changing its key on a list with entries would lift every suppression at
// once. The store refuses to work instead, saying why, until the setting is put back.
import { afterAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createSuppressionKeys } from '../../src/suppression/keys.js';
import { startGateway } from '../helpers/gateway.js';
import { uniquePrefix } from '../helpers/redis.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-mode');
afterAll(() => fx.close());

const KEY_A = 'a'.repeat(32);
const KEY_B = 'b'.repeat(32);

describe('suppression store: the addressing mode of a list', () => {
  it('refuses to read or write a plain list in privacy mode', async () => {
    const plain = fx.store('plain-list');
    await plain.suppress('dead@example.com', { reason: 'bounce' });
    const hashed = fx.store('plain-list', { hashKey: KEY_A });
    const refusal = /holds plain addresses, but SUPPRESSION_HASH_KEY is set/;
    await expect(hashed.checkMany(['dead@example.com'])).rejects.toThrow(refusal);
    await expect(hashed.isSuppressed('dead@example.com')).rejects.toThrow(refusal);
    await expect(hashed.suppress('new@example.com', { reason: 'manual' })).rejects.toThrow(refusal);
    await expect(hashed.count()).rejects.toThrow(refusal);
    expect(await plain.isSuppressed('dead@example.com')).toBe(true);
    expect(await plain.count()).toBe(1);
  });

  it('refuses a privacy-mode list without the key, or with another one', async () => {
    await fx.store('hashed-list', { hashKey: KEY_A }).suppress('dead@example.com', { reason: 'bounce' });
    await expect(fx.store('hashed-list').checkMany(['dead@example.com'])).rejects.toThrow(
      /holds HMACs of addresses \(privacy mode\), but SUPPRESSION_HASH_KEY is not set/,
    );
    const other = fx.store('hashed-list', { hashKey: KEY_B });
    await expect(other.checkMany(['dead@example.com'])).rejects.toThrow(
      /was written with another SUPPRESSION_HASH_KEY/,
    );
    await expect(
      other.importMany([{ address: 'x@example.com', details: { reason: 'manual' } }]),
    ).rejects.toThrow(/another SUPPRESSION_HASH_KEY/);
    const same = fx.store('hashed-list', { hashKey: KEY_A });
    expect(await same.isSuppressed('dead@example.com')).toBe(true);
  });

  it('names the keys to delete to start afresh', async () => {
    await fx.store('named').suppress('dead@example.com', { reason: 'bounce' });
    const pattern = createSuppressionKeys(`${fx.prefix}:named`).pattern;
    const error = await fx
      .store('named', { hashKey: KEY_A })
      .get('dead@example.com')
      .catch((err: unknown) => err as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(pattern);
  });

  it('recognises a list written before the mode was recorded, and records it', async () => {
    await fx.store('older').suppress('dead@example.com', { reason: 'bounce' });
    const keys = createSuppressionKeys(`${fx.prefix}:older`);
    await fx.redis.del(keys.mode);
    await expect(fx.store('older', { hashKey: KEY_A }).checkMany(['dead@example.com'])).rejects.toThrow(
      /holds plain addresses/,
    );
    expect(await fx.redis.get(keys.mode)).toBeNull();
    expect(await fx.store('older').isSuppressed('dead@example.com')).toBe(true);
    expect(await fx.redis.get(keys.mode)).toBe('plain');
  });

  it('lets a list that holds nothing be taken over, and reads of an empty list write nothing', async () => {
    const plain = fx.store('emptied');
    await plain.suppress('temp@example.com', { reason: 'manual' });
    await plain.remove('temp@example.com');
    const hashed = fx.store('emptied', { hashKey: KEY_A });
    await hashed.suppress('new@example.com', { reason: 'manual' });
    expect(await hashed.isSuppressed('new@example.com')).toBe(true);

    const reader = fx.store('untouched', { hashKey: KEY_B });
    expect(await reader.checkMany(['a@example.com', 'b@example.com'])).toEqual([null, null]);
    expect(await reader.count()).toBe(0);
    expect([...(await fx.dump('untouched')).keys()]).toEqual([]);
  });

  it('makes the SMTP intake answer 451 rather than accept a suppressed recipient', async () => {
    const prefix = uniquePrefix('supp-mode-gw');
    await createSuppressionStore({ redis: fx.redis, prefix }).suppress('dead@example.net', {
      reason: 'bounce',
    });
    const gw = await startGateway({ ROLES: 'smtp', SUPPRESSION_HASH_KEY: KEY_A }, { prefix });
    const client = await SmtpClient.connect(gw.smtpPort);
    try {
      await client.hello();
      expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
      const reply = await client.command('RCPT TO:<dead@example.net>');
      expect(reply.code, reply.text).toBe(451);
      const logged = gw.logs.find((line) => line.msg === 'smtp.suppression_check_failed');
      expect(String(logged?.err)).toMatch(/holds plain addresses, but SUPPRESSION_HASH_KEY is set/);
    } finally {
      client.close();
      await gw.stop();
    }
  });
});
