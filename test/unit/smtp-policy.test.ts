import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/config/parsers.js';
import { checkEnvelopeAddress } from '../../src/smtp/address.js';
import { createNetworkPolicy, senderAllowed } from '../../src/smtp/policy.js';

describe('network policy', () => {
  const policy = createNetworkPolicy(['127.0.0.0/8', '::1/128', '10.1.0.0/16'].map((c) => parseCidr(c)!));

  it.each([
    ['127.0.0.1', true],
    ['::ffff:127.0.0.1', true],
    ['::1', true],
    ['10.1.200.3', true],
    ['10.2.0.1', false],
    ['192.0.2.1', false],
    ['2001:db8::1', false],
    ['garbage', false],
  ])('%s allowed: %s', (ip, expected) => {
    expect(policy.allows(ip)).toBe(expected);
  });
});

describe('sender policy', () => {
  it('allows anyone when the list is empty, including the null sender', () => {
    expect(senderAllowed([], 'x@y.example')).toBe(true);
    expect(senderAllowed([], '')).toBe(true);
  });

  it('matches addresses and @domain entries case-insensitively', () => {
    const list = ['app@example.com', '@corp.example'];
    expect(senderAllowed(list, 'App@Example.com')).toBe(true);
    expect(senderAllowed(list, 'anyone@CORP.example')).toBe(true);
    expect(senderAllowed(list, 'other@example.com')).toBe(false);
    expect(senderAllowed(list, 'x@sub.corp.example')).toBe(false);
    expect(senderAllowed(list, '')).toBe(false);
  });
});

describe('envelope addresses', () => {
  it.each([
    ['user@example.com', 'user@example.com'],
    ['User@EXAMPLE.com', 'User@example.com'],
    ['user@bücher.example', 'user@xn--bcher-kva.example'],
    ['"quoted local"@example.com', '"quoted local"@example.com'],
  ])('accepts %s as %s', (input, expected) => {
    expect(checkEnvelopeAddress(input)).toEqual({ ok: true, address: expected });
  });

  it.each([
    ['jörg@example.com', 'non-ascii-local-part'],
    ['no-at-sign', 'invalid'],
    ['@example.com', 'invalid'],
    ['user@', 'invalid'],
    ['user@exa mple.com', 'invalid'],
    ['user@example.com\r\nRCPT', 'invalid'],
  ])('refuses %s (%s)', (input, reason) => {
    expect(checkEnvelopeAddress(input)).toEqual({ ok: false, reason });
  });
});
