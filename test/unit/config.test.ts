import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { parseBytes, parseCidr, parseDurationMs, splitList } from '../../src/config/parsers.js';
import { RelayError } from '../../src/shared/errors.js';

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig({});
    expect(config.SMTP_HOST).toBe('0.0.0.0');
    expect(config.SMTP_PORT).toBe(2525);
    expect(config.HTTP_PORT).toBe(8080);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.SMTP_MAX_MESSAGE_BYTES).toBe(10 * 1024 * 1024);
    expect(config.SMTP_ALLOWED_NETWORKS.map((c) => `${c.address}/${c.prefix}`)).toEqual([
      '127.0.0.0/8',
      '::1/128',
    ]);
    expect(config.SMTP_ALLOWED_SENDERS).toEqual([]);
    expect(config.ROLES).toEqual(['smtp', 'worker', 'http']);
    expect(config.QUEUE_MAX_AGE).toBe(3 * 86_400_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every bad key in one error', () => {
    let error: unknown;
    try {
      parseConfig({
        SMTP_PORT: 'seventy',
        SMTP_MAX_MESSAGE_BYTES: '50MB',
        SMTP_ALLOWED_NETWORKS: '10.0.0.0/8,not-a-net',
        ROLES: 'smtp,mailer',
        LOG_LEVEL: 'loud',
        SHUTDOWN_TIMEOUT: 'soon',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RelayError);
    const message = (error as RelayError).message;
    for (const key of [
      'SMTP_PORT',
      'SMTP_MAX_MESSAGE_BYTES',
      'SMTP_ALLOWED_NETWORKS',
      'ROLES',
      'LOG_LEVEL',
      'SHUTDOWN_TIMEOUT',
    ]) {
      expect(message).toContain(key);
    }
    expect(message).toContain('"not-a-net" is not an IP address or CIDR range');
    expect(message).toContain('(got "seventy")');
  });

  it('never allows a message size above what SES takes', () => {
    expect(() => parseConfig({ SMTP_MAX_MESSAGE_BYTES: '41000000' })).toThrow(/SES's limit/);
    expect(parseConfig({ SMTP_MAX_MESSAGE_BYTES: '25MB' }).SMTP_MAX_MESSAGE_BYTES).toBe(25_000_000);
  });

  it('refuses PROXY protocol on an implicit-TLS port that is not configured', () => {
    expect(() => parseConfig({ SMTP_TLS_PROXY_PROTOCOL: 'true' })).toThrow(
      /SMTP_TLS_PROXY_PROTOCOL needs SMTP_TLS_PORT/,
    );
  });

  it('refuses PROXY protocol without SMTP_PROXY_TRUSTED_NETWORKS, saying to list the load balancers', () => {
    for (const flag of ['SMTP_PROXY_PROTOCOL', 'SMTP_TLS_PROXY_PROTOCOL']) {
      expect(() =>
        parseConfig({ [flag]: 'true', SMTP_TLS_PORT: '465', SMTP_TLS_CERT: 'c', SMTP_TLS_KEY: 'k' }),
      ).toThrow(
        /SMTP_PROXY_TRUSTED_NETWORKS: .*list the load balancers' addresses .*write 0\.0\.0\.0\/0,::\/0/,
      );
    }
    const config = parseConfig({
      SMTP_PROXY_PROTOCOL: 'true',
      SMTP_PROXY_TRUSTED_NETWORKS: '10.0.0.0/8, fd00::1',
    });
    expect(config.SMTP_PROXY_TRUSTED_NETWORKS).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: 'fd00::1', prefix: 128, family: 'ipv6' },
    ]);
    expect(() => parseConfig({ SMTP_PROXY_TRUSTED_NETWORKS: 'balancer' })).toThrow(
      /"balancer" is not an IP address or CIDR range/,
    );
    expect(parseConfig({}).SMTP_PROXY_TRUSTED_NETWORKS).toEqual([]);
  });

  it('reads sender entries as lower-case addresses or @domains', () => {
    const config = parseConfig({ SMTP_ALLOWED_SENDERS: 'App@Example.com, @Corp.example' });
    expect(config.SMTP_ALLOWED_SENDERS).toEqual(['app@example.com', '@corp.example']);
    // Domains as MAIL FROM is compared: in punycode, however the entry spells them.
    expect(
      parseConfig({ SMTP_ALLOWED_SENDERS: '@Bücher.de, chef@münchen.example' }).SMTP_ALLOWED_SENDERS,
    ).toEqual(['@xn--bcher-kva.de', 'chef@xn--mnchen-3ya.example']);
    expect(() => parseConfig({ SMTP_ALLOWED_SENDERS: 'nonsense' })).toThrow(/SMTP_ALLOWED_SENDERS/);
  });

  it('accepts any subset of roles', () => {
    expect(parseConfig({ ROLES: 'worker' }).ROLES).toEqual(['worker']);
    expect(parseConfig({ ROLES: 'http, smtp' }).ROLES).toEqual(['http', 'smtp']);
  });
});

describe('value parsers', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['3d', 259_200_000],
    ['1.5s', 1500],
    ['soon', undefined],
    ['-1s', undefined],
  ])('duration %s → %s', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each([
    ['1024', 1024],
    ['10MiB', 10 * 1024 * 1024],
    ['25MB', 25_000_000],
    ['512KiB', 512 * 1024],
    ['ten', undefined],
  ])('size %s → %s', (input, expected) => {
    expect(parseBytes(input)).toBe(expected);
  });

  it('parses CIDR ranges and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('192.0.2.7')).toEqual({ address: '192.0.2.7', prefix: 32, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('10.0.0.0/')).toBeUndefined();
    expect(parseCidr('host.example')).toBeUndefined();
  });

  it('splits lists on commas and white space', () => {
    expect(splitList(' a, b  c,,')).toEqual(['a', 'b', 'c']);
  });
});
