// The CSRF rule of /admin, pure: which state changes the browser's own headers mark as forged.
import { describe, expect, it } from 'vitest';
import { crossSiteRefusal } from '../../src/admin/cross-site.js';

const HOST = { host: 'relay.internal:8080' };

describe('crossSiteRefusal', () => {
  it('lets reads through whatever their origin', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      expect(
        crossSiteRefusal(method, { ...HOST, origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' }),
      ).toBeUndefined();
    }
  });

  it('refuses a state change from another host, from Origin null, or that the browser marks cross-site', () => {
    for (const headers of [
      { origin: 'http://evil.test:8080' },
      { origin: 'http://relay.internal:8081' },
      { origin: 'http://relay.internal.evil.test:8080' },
      { origin: 'null' },
      { origin: 'nonsense' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://relay.internal:8080' },
    ]) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        expect(crossSiteRefusal(method, { ...HOST, ...headers }), JSON.stringify(headers)).toBeDefined();
      }
    }
  });

  it('lets through its own origin, a proxy-forwarded host, default ports either way, and clients without Origin', () => {
    for (const headers of [
      { ...HOST, origin: 'http://relay.internal:8080' },
      { ...HOST, origin: 'HTTP://Relay.Internal:8080' },
      {
        ...HOST,
        origin: 'https://admin.example.com',
        'x-forwarded-host': 'admin.example.com, proxy.internal',
      },
      { host: 'relay.internal', origin: 'http://relay.internal:80' },
      { host: 'relay.internal:443', origin: 'https://relay.internal' },
      { host: '[::1]:8080', origin: 'http://[::1]:8080' },
      { ...HOST },
      { ...HOST, 'sec-fetch-site': 'same-origin', origin: 'http://relay.internal:8080' },
    ]) {
      expect(crossSiteRefusal('POST', headers), JSON.stringify(headers)).toBeUndefined();
    }
  });
});
