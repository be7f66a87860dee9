import { describe, expect, it } from 'vitest';
import { clientKey } from '../../src/auth/client-key.js';

describe('AUTH throttle client key', () => {
  it('keys IPv4 clients by address, also when they arrive IPv4-mapped', () => {
    expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  });

  it('keys IPv6 clients by their /64, however the address is written', () => {
    const key = '2001:db8:1:2::/64';
    expect(clientKey('2001:db8:1:2::1')).toBe(key);
    expect(clientKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe(key);
    expect(clientKey('2001:DB8:1:2:a:b:c:d')).toBe(key);
    expect(clientKey('2001:db8:1:3::1')).not.toBe(key);
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('keeps anything that is not an IP address as it is', () => {
    expect(clientKey('unknown')).toBe('unknown');
  });
});
