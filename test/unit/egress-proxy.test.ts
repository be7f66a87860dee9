import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { egressNote } from '../../src/doctor/checks/ses-account.js';
import { DIRECT, egressProxyOf, proxyLabel } from '../../src/shared/egress-proxy.js';
import { parseNoProxy } from '../../src/shared/no-proxy.js';

const via = (variables: Parameters<typeof egressProxyOf>[0], url: string) =>
  egressProxyOf(variables).proxyFor(new URL(url))?.href;

describe('NO_PROXY matching (curl semantics)', () => {
  it.each([
    ['example.com', 'example.com', 443, true],
    ['example.com', 'smtp.example.com', 443, true],
    ['example.com', 'badexample.com', 443, false],
    ['.internal', 'ses.internal', 443, true],
    ['.internal', 'internal', 80, true],
    ['*.corp.net', 'a.b.corp.net', 443, true],
    ['*', 'anything.at.all', 443, true],
    ['EXAMPLE.com.', 'Example.COM', 443, true],
    ['localhost:8005', 'localhost', 8005, true],
    ['localhost:8005', 'localhost', 8006, false],
    ['127.0.0.1', '127.0.0.1', 8005, true],
    ['127.0.0.1', '127.0.0.2', 8005, false],
    ['10.0.0.0/8', '10.20.30.40', 443, true],
    ['10.0.0.0/8', '11.0.0.1', 443, false],
    ['10.0.0.0/8', '10.example.com', 443, false],
    ['[::1]:8080', '[::1]', 8080, true],
    ['::1', '::1', 443, true],
    ['fd00::/8', '[fd12::1]', 443, true],
    ['foo.com, bar.com ,', 'bar.com', 443, true],
    ['foo.com bar.com', 'bar.com', 443, true],
    ['', 'example.com', 443, false],
  ])('%j against %s:%i → %s', (list, host, port, expected) => {
    expect(parseNoProxy(list).matches(host, port)).toBe(expected);
  });
});

describe('egress proxy choice', () => {
  const proxies = { HTTPS_PROXY: 'http://tls-proxy:3128', HTTP_PROXY: 'http://plain-proxy:8080' };

  it('picks HTTPS_PROXY for https targets and HTTP_PROXY for http ones', () => {
    expect(via(proxies, 'https://email.eu-west-1.amazonaws.com/v2/email/account')).toBe(
      'http://tls-proxy:3128/',
    );
    expect(via(proxies, 'http://127.0.0.1:8005/')).toBe('http://plain-proxy:8080/');
    expect(via({ HTTPS_PROXY: 'http://tls-proxy:3128' }, 'http://127.0.0.1:8005/')).toBeUndefined();
  });

  it('prefers the upper-case variable and reads the lower-case one when it is unset', () => {
    expect(via({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }, 'https://x.com')).toBe(
      'http://upper:1/',
    );
    expect(via({ https_proxy: 'http://lower:2' }, 'https://x.com')).toBe('http://lower:2/');
    expect(via({ https_proxy: 'http://lower:2', no_proxy: 'x.com' }, 'https://x.com')).toBeUndefined();
    expect(
      via({ https_proxy: 'http://lower:2', NO_PROXY: 'y.com', no_proxy: 'x.com' }, 'https://x.com'),
    ).toBe('http://lower:2/');
  });

  it('connects directly to what NO_PROXY names, by host or by port', () => {
    const withExceptions = { ...proxies, NO_PROXY: '.internal,127.0.0.1:8005' };
    expect(via(withExceptions, 'https://ses.internal/')).toBeUndefined();
    expect(via(withExceptions, 'http://127.0.0.1:8005/')).toBeUndefined();
    expect(via(withExceptions, 'http://127.0.0.1:9000/')).toBe('http://plain-proxy:8080/');
  });

  it('is DIRECT without any proxy, and names a proxy by host:port only', () => {
    expect(egressProxyOf({ NO_PROXY: '*' })).toBe(DIRECT);
    expect(proxyLabel(new URL('http://relay:s3cret@proxy.corp:3128'))).toBe('proxy.corp:3128');
    expect(proxyLabel(new URL('https://user:pw@proxy.corp'))).toBe('proxy.corp:443');
  });
});

describe('doctor: how SES calls leave the host', () => {
  const config = (env: Record<string, string>) =>
    parseConfig({ REDIS_URL: 'redis://127.0.0.1:6379', ...env });

  it('names the proxy by host:port, never its credentials, or says why SES is reached directly', () => {
    expect(egressNote(config({}))).toBe('');
    const proxied = egressNote(config({ HTTPS_PROXY: 'http://relay:s3cret@proxy.corp:3128' }));
    expect(proxied).toBe(' (through the egress proxy proxy.corp:3128)');
    expect(egressNote(config({ HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.amazonaws.com' }))).toBe(
      ' (directly: NO_PROXY names email.us-east-1.amazonaws.com)',
    );
    expect(
      egressNote(config({ HTTPS_PROXY: 'http://proxy.corp:3128', SES_ENDPOINT: 'http://127.0.0.1:8005' })),
    ).toBe(' (directly: no HTTP_PROXY for http:// targets)');
  });
});
