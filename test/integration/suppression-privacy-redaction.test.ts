// Privacy mode keeps no address in Redis, including one with a quoted local part that an SES
// diagnostic code quotes (`<"john doe"@example.com>`), which the address scrubber must recognise.
import { afterAll, describe, expect, it } from 'vitest';
import { redactAddresses } from '../../src/suppression/privacy.js';
import { suppressionFixture } from './suppression-fixture.js';

const fx = suppressionFixture('supp-privacy');
afterAll(() => fx.close());

describe('privacy mode and quoted local parts', () => {
  it('scrubs a quoted address out of free text, escapes included', () => {
    expect(redactAddresses('smtp; 550 5.1.1 <"john doe"@example.com>: no such user')).toBe(
      'smtp; 550 5.1.1 <[address]>: no such user',
    );
    expect(redactAddresses('550 "b\\"ob"@example.net and jane@example.com rejected')).toBe(
      '550 [address] and [address] rejected',
    );
    expect(redactAddresses('say "hello" to @ops')).toBe('say "hello" to @ops');
  });

  it('stores neither the address nor its local part in a bounce record', async () => {
    const store = fx.store('quoted', { hashKey: 'k'.repeat(32) });
    await store.suppress('"John Doe"@example.com', {
      reason: 'bounce',
      diagnosticCode: 'smtp; 550 5.1.1 <"John Doe"@example.com>: Recipient address rejected',
    });
    expect(await store.get('"john doe"@example.com')).toMatchObject({
      reason: 'bounce',
      diagnosticCode: 'smtp; 550 5.1.1 <[address]>: Recipient address rejected',
    });
    const dump = [...(await fx.dump('quoted')).entries()].flat().join('\n').toLowerCase();
    expect(dump).not.toContain('john doe');
    expect(dump).not.toContain('example.com');
  });
});
