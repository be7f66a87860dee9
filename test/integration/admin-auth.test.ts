// Access to /admin: disabled without credentials (404, like any unknown route), 401 with one body for
// any path on bad credentials, the right challenge, both credential kinds, and the CSRF guard (what
// the browser says, the Origin against the Host, no form encodings) on the API and the dashboard.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdminRouter, type AdminAuthOptions } from '../../src/admin/index.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'tok-3f9a1c-admin';
const USER = 'ops';
const PASSWORD = 'p@ss:word with colon';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const PATHS = [
  '/admin',
  '/admin/',
  '/admin/api/x',
  '/admin/api/stats',
  '/admin/queues',
  '/admin/queues/api/queues',
];

const prefix = uniquePrefix('admin-auth');
const redis = new Redis(TEST_REDIS_URL);
const keys = createKeys(prefix);
const logger = createLogger('silent');
const queue = createOutboundQueue({
  connection: redis,
  keys,
  retry: { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 },
  completedRetentionMs: 60_000,
  failedRetentionMs: 60_000,
  logger,
});
const deps = {
  redis,
  prefix,
  queue,
  holds: createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle }),
  suppression: createSuppressionStore({ redis, prefix }),
  trace: createTraceStore(redis, prefix, 60_000),
  logger,
};
const servers: http.Server[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await queue.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

/** An app like the HTTP role's: the admin router, then the server's own JSON 404. */
async function serve(auth: AdminAuthOptions) {
  const admin = createAdminRouter({ ...deps, auth });
  const app = express();
  app.use(admin.router);
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such route' } });
  });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const res = await fetch(origin + path, { method, headers });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  return { admin, get, origin };
}

describe('admin access', () => {
  it('is disabled with a warning and answers 404 like any unknown route when nothing is configured', async () => {
    const { admin, get } = await serve({});
    expect(admin.enabled).toBe(false);
    expect(admin.warning).toMatch(/ADMIN_TOKEN.*disabled|disabled.*ADMIN_TOKEN/s);
    const unknown = await get('/nowhere');
    for (const path of PATHS) {
      const res = await get(path, { authorization: `Bearer ${TOKEN}` });
      expect(res.status, path).toBe(404);
      expect(res.text, path).toBe(unknown.text);
    }
    const half = await serve({ user: USER });
    expect(half.admin.enabled).toBe(false);
    expect(half.admin.warning).toMatch(/ADMIN_PASSWORD/);
  });

  it('answers a wrong token with the same 401 body on every path, and the right one with 200', async () => {
    const { admin, get } = await serve({ token: TOKEN });
    expect(admin.enabled).toBe(true);
    expect(admin.warning).toBeUndefined();
    const bodies = new Set<string>();
    for (const path of [...PATHS, '/admin/no/such/thing']) {
      for (const authorization of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        basic(USER, PASSWORD),
        '',
      ]) {
        const res = await get(path, authorization ? { authorization } : {});
        expect(res.status, `${path} ${authorization}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ses-relay"');
        bodies.add(res.text);
      }
    }
    expect([...bodies]).toEqual([
      JSON.stringify({ error: { code: 'ADMIN_UNAUTHORIZED', message: 'Authentication required' } }),
    ]);
    const ok = { authorization: `Bearer ${TOKEN}` };
    const page = await get('/admin', ok);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect((await get('/admin/api/stats', ok)).status).toBe(200);
    expect((await get('/admin/queues', ok)).status).toBe(200);
    expect((await get('/admin/queues/api/queues', ok)).status).toBe(200);
    expect((await get('/admin/no/such/thing', ok)).status).toBe(404);
  });

  it('gives the sign-in page, still as a 401, only to a browser navigating to /admin itself', async () => {
    const { get } = await serve({ token: TOKEN });
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    for (const path of ['/admin', '/admin/']) {
      const res = await get(path, html);
      expect(res.status, path).toBe(401);
      expect(res.text, path).toContain('id="token-form"');
      expect(res.text).not.toMatch(/"sent"|suppressed addresses: \d/i);
    }
    // Elsewhere the page's script would draw the admin over the wrong address (the dashboard's).
    for (const path of ['/admin/queues/', '/admin/queues', '/admin/api/stats', '/admin/nowhere']) {
      const res = await get(path, html);
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.text), path).toEqual({
        error: { code: 'ADMIN_UNAUTHORIZED', message: 'Authentication required' },
      });
    }
    // A presented but wrong token is never answered with the page.
    const wrong = await get('/admin', { ...html, authorization: 'Bearer nope' });
    expect(wrong.text).toContain('ADMIN_UNAUTHORIZED');
  });

  it('replaces the dashboard link with a note when only a token is configured', async () => {
    const ok = { authorization: `Bearer ${TOKEN}` };
    const tokenOnly = await (await serve({ token: TOKEN })).get('/admin', ok);
    expect(tokenOnly.text).not.toContain('href="/admin/queues/"');
    expect(tokenOnly.text).toMatch(
      /id="board-off"[^>]*>Queue dashboard: needs basic auth \(set ADMIN_USER and ADMIN_PASSWORD\)/,
    );
    const both = await (await serve({ token: TOKEN, user: USER, password: PASSWORD })).get('/admin', ok);
    expect(both.text).toContain('<a href="/admin/queues/">Queue dashboard</a>');
    expect(both.text).not.toContain('board-off');
  });

  it('challenges for basic auth when it is configured and takes either credential when both are', async () => {
    const basicOnly = await serve({ user: USER, password: PASSWORD });
    for (const authorization of [
      basic(USER, 'wrong'),
      basic('root', PASSWORD),
      `Bearer ${TOKEN}`,
      'Basic !!!',
    ]) {
      const res = await basicOnly.get('/admin/api/stats', { authorization });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="ses-relay"');
    }
    expect((await basicOnly.get('/admin', { authorization: basic(USER, PASSWORD) })).status).toBe(200);
    expect(
      (await basicOnly.get('/admin', { authorization: `basic ${basic(USER, PASSWORD).slice(6)}` })).status,
    ).toBe(200);

    const both = await serve({ token: TOKEN, user: USER, password: PASSWORD });
    expect((await both.get('/admin/api/stats', { authorization: basic(USER, PASSWORD) })).status).toBe(200);
    expect((await both.get('/admin/api/stats', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await both.get('/admin/api/stats')).headers.get('www-authenticate')).toBe(
      'Basic realm="ses-relay"',
    );
  });

  it('refuses state changes a browser marks as cross-site, even with valid credentials', async () => {
    const { get } = await serve({ token: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const cross = await get('/admin/api/queue/resume', { ...auth, 'sec-fetch-site': 'cross-site' }, 'POST');
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.text).error.code).toBe('ADMIN_CROSS_SITE');
    expect(
      (await get('/admin/api/queue/resume', { ...auth, 'sec-fetch-site': 'same-origin' }, 'POST')).status,
    ).toBe(200);
    expect((await get('/admin/api/stats', { ...auth, 'sec-fetch-site': 'cross-site' })).status).toBe(200);
  });

  it('refuses state changes whose Origin is another host or null, as browsers send over plain HTTP', async () => {
    const { get, origin: self } = await serve({ user: USER, password: PASSWORD });
    const auth = { authorization: basic(USER, PASSWORD), 'content-type': 'application/json' };
    const board = `/admin/queues/api/queues/${OUTBOUND_QUEUE}/retry/failed`;
    for (const origin of ['http://evil.test:8080', 'null', 'http://127.0.0.1.evil.test', 'not a url']) {
      for (const [method, path] of [
        ['POST', '/admin/api/queue/pause'],
        ['POST', '/admin/api/queue/retry-failed'],
        ['DELETE', '/admin/api/suppressions/a@example.com'],
        ['PUT', board],
      ] as const) {
        const res = await get(path, { ...auth, origin }, method);
        expect(res.status, `${origin} ${method} ${path}`).toBe(403);
        expect(JSON.parse(res.text).error.code, `${origin} ${path}`).toBe('ADMIN_CROSS_SITE');
      }
    }
    expect(await redis.exists(keys.sendingHold)).toBe(0);
    // Reading is not a state change; the same origin, a proxy's X-Forwarded-Host and curl pass.
    expect((await get('/admin/api/stats', { ...auth, origin: 'http://evil.test' })).status).toBe(200);
    for (const headers of [
      { origin: self } as Record<string, string>,
      { origin: 'https://admin.example.com', 'x-forwarded-host': 'admin.example.com' },
      {},
    ]) {
      const res = await get('/admin/api/queue/resume', { ...auth, ...headers }, 'POST');
      expect(res.status, JSON.stringify(headers)).toBe(200);
    }
    expect((await get(board, { ...auth, origin: 'http://evil.test' }, 'PUT')).status).toBe(403);
  });

  it('refuses form encodings on state changes, empty forms included, and takes a bare POST', async () => {
    const { get } = await serve({ token: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=b',
    ]) {
      for (const path of ['/admin/api/queue/pause', '/admin/api/queue/retry-failed']) {
        const res = await get(path, { ...auth, 'content-type': type, 'content-length': '0' }, 'POST');
        expect(res.status, `${type} ${path}`).toBe(415);
        expect(JSON.parse(res.text).error, `${type} ${path}`).toEqual({
          code: 'ADMIN_UNSUPPORTED_MEDIA_TYPE',
          message: 'body: send application/json',
          field: 'body',
        });
      }
    }
    expect(await redis.exists(keys.sendingHold)).toBe(0);
    // `curl -X POST` sends no Content-Type and no body.
    expect((await get('/admin/api/queue/resume', auth, 'POST')).status).toBe(200);
  });
});
