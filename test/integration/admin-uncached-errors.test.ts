// Error answers under /admin are never cached, not even on the queue dashboard's static paths,
// whose files may be: a bundle name missing on one instance during a rolling upgrade must not stay
// a 404 in the browser's cache for a year.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

const BASIC = `Basic ${Buffer.from('ops:admin-cache-test-password').toString('base64')}`;
let gw: TestGateway;
let origin: string;

beforeAll(async () => {
  gw = await startGateway({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'admin-cache-test-password' });
  origin = `http://127.0.0.1:${gw.httpPort}`;
});
afterAll(() => gw.stop());

const get = (path: string) => fetch(origin + path, { headers: { authorization: BASIC } });

describe('admin: caching of error answers', () => {
  it('answers a missing dashboard file with a 404 that is not cached', async () => {
    for (const path of [
      '/admin/queues/static/js/main.0123456789abcdef.js',
      '/admin/queues/static/css/main.fedcba9876543210.css',
      '/admin/queues/static/images/no-such-icon.svg',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(await res.json(), path).toEqual({
        error: { code: 'ADMIN_NOT_FOUND', message: 'No such admin route' },
      });
    }
  });

  it('still lets the files that exist be cached', async () => {
    const icon = await get('/admin/queues/static/images/logo.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('private, max-age=86400');
  });
});
