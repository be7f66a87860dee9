// The admin API's suppression routes against real Redis: one address (plain and privacy mode),
// paging with filters, CSV and JSON-lines import with bad lines, export round trips, the import limit,
// the media types an import takes, and privacy mode's entry ids.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminRouter } from '../../src/admin/index.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createSuppressionStore, type SuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const TOKEN = 'admin-supp-test-token';
const DAY_MS = 86_400_000;
const prefix = uniquePrefix('admin-supp');
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
const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
const trace = createTraceStore(redis, prefix, 60_000);
const servers: http.Server[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await queue.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});
beforeEach(() => deleteKeys(redis, `${prefix}:supp`));

/** The admin router over `suppression` on port 0; returns a client for its API. */
async function serve(suppression: SuppressionStore, log = logger) {
  const admin = createAdminRouter({
    redis,
    prefix,
    queue,
    holds,
    suppression,
    trace,
    logger: log,
    auth: { token: TOKEN },
  });
  const app = express();
  app.use(admin.router);
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/api`;
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const isText = typeof body === 'string';
    // fetch would label a text body text/plain, a form encoding the import refuses.
    const type = body === undefined ? undefined : isText ? 'application/octet-stream' : 'application/json';
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(type === undefined ? {} : { 'content-type': type }),
        ...headers,
      },
      body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const json =
      res.headers.get('content-type')?.startsWith('application/json') && text ? JSON.parse(text) : undefined;
    return { status: res.status, json, text, headers: res.headers };
  };
}

const store = createSuppressionStore({ redis, prefix });
const call = await serve(store);

describe('admin API: suppressions', () => {
  it('adds, looks up and removes one address, normalising it', async () => {
    const added = await call('POST', '/suppressions', { address: 'Jane <Jane@Example.COM>' });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({
      created: true,
      entry: { address: 'jane@example.com', reason: 'manual' },
    });
    expect(
      (await call('POST', '/suppressions', { address: 'jane@example.com', reason: 'bounce' })).status,
    ).toBe(200);
    expect((await store.get('jane@example.com'))?.reason).toBe('bounce');

    const found = await call('GET', '/suppressions/JANE%40example.com');
    expect(found.json.entry).toMatchObject({ address: 'jane@example.com', count: 2 });
    expect((await call('DELETE', '/suppressions/jane%40example.com')).json).toEqual({
      removed: true,
      address: 'jane@example.com',
    });
    expect(await store.get('jane@example.com')).toBeNull();
    const missing = await call('GET', '/suppressions/jane%40example.com');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('ADMIN_NOT_FOUND');
    expect((await call('DELETE', '/suppressions/jane%40example.com')).status).toBe(404);
  });

  it('lists every entry once across pages, and filters by reason and since', async () => {
    const reasons = ['bounce', 'complaint', 'manual', 'imported'] as const;
    const now = Date.now();
    await store.importMany(
      Array.from({ length: 230 }, (_, i) => ({
        address: `user${i}@example.com`,
        details: { reason: reasons[i % 4]!, at: i < 30 ? now - 10 * DAY_MS : now },
      })),
    );
    const collect = async (query: string) => {
      const seen: { address: string; reason: string; firstSeen: number }[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const page = await call('GET', `/suppressions?limit=40${query}${suffix}`);
        expect(page.status).toBe(200);
        expect(page.json.items.length).toBeLessThanOrEqual(40);
        seen.push(...(page.json.items as typeof seen));
        cursor = page.json.nextCursor;
        pages++;
      } while (cursor !== null);
      return { seen, pages };
    };
    const all = await collect('');
    expect(all.pages).toBeGreaterThanOrEqual(6);
    expect(new Set(all.seen.map((e) => e.address)).size).toBe(230);
    expect(all.seen).toHaveLength(230);

    const complaints = await collect('&reason=complaint');
    expect(complaints.seen).toHaveLength(58);
    expect(complaints.seen.every((e) => e.reason === 'complaint')).toBe(true);

    const since = new Date(now - DAY_MS).toISOString();
    const recent = await collect(`&since=${encodeURIComponent(since)}`);
    expect(recent.seen).toHaveLength(200);
    expect(recent.seen.every((e) => e.firstSeen >= now - DAY_MS)).toBe(true);
  });

  it('imports CSV, reporting bad lines by number and importing the rest', async () => {
    await store.suppress('dup@example.com', { reason: 'manual' });
    const csv = [
      'address,reason',
      'a@example.com,bounce',
      'not-an-address,manual',
      'b@example.com,',
      ' "C@Example.com" , complaint',
      'd@example.com,weird',
      '',
      'dup@example.com,complaint',
    ].join('\r\n');
    const res = await call('POST', '/suppressions/import', csv, { 'content-type': 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ added: 3, updated: 1, invalid: 2, errors: [3, 6] });
    expect((await store.get('a@example.com'))?.reason).toBe('bounce');
    expect((await store.get('b@example.com'))?.reason).toBe('imported');
    expect((await store.get('c@example.com'))?.reason).toBe('complaint');
    expect((await store.get('dup@example.com'))?.reason).toBe('complaint');
    expect(await store.get('d@example.com')).toBeNull();
  });

  it('imports JSON lines and headerless CSV, telling them apart without a content type', async () => {
    const jsonl = [
      '{"address":"e@example.com","reason":"complaint"}',
      '{not json',
      '{"address":"f@example.com"}',
      '{"reason":"manual"}',
    ].join('\n');
    const res = await call('POST', '/suppressions/import', jsonl);
    expect(res.json).toMatchObject({ added: 2, updated: 0, invalid: 2, errors: [2, 4] });
    expect((await store.get('e@example.com'))?.reason).toBe('complaint');

    const plain = await call('POST', '/suppressions/import', 'g@example.com\nh@example.com,manual\n');
    expect(plain.json).toMatchObject({ added: 2, invalid: 0, errors: [] });
    expect(await store.count()).toBe(4);
  });

  it.each(['csv', 'jsonl'] as const)(
    'exports the whole list as %s and imports it back unchanged',
    async (format) => {
      await store.importMany(
        Array.from({ length: 1300 }, (_, i) => ({
          address: i === 0 ? '"odd,local"@example.com' : `round${i}@example.com`,
          details: { reason: i % 2 ? ('bounce' as const) : ('manual' as const), at: 1_700_000_000_000 + i },
        })),
      );
      await store.suppress('temp@example.com', { reason: 'manual', expiresAt: Date.now() + DAY_MS });
      const exported = await call('GET', `/suppressions/export?format=${format}`);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-disposition')).toMatch(
        /^attachment; filename="?suppressions-\d{4}-\d{2}-\d{2}\./,
      );
      expect(exported.text.trim().split('\n')).toHaveLength(1301 + (format === 'csv' ? 1 : 0));

      await deleteKeys(redis, `${prefix}:supp`);
      const imported = await call('POST', `/suppressions/import?format=${format}`, exported.text);
      expect(imported.json).toMatchObject({ added: 1301, updated: 0, invalid: 0 });
      // Byte for byte: addresses, reasons, first-seen times and expiries all survived.
      expect((await call('GET', `/suppressions/export?format=${format}`)).text).toBe(exported.text);
    },
  );

  it('answers HEAD on the export with its headers, without running the export', async () => {
    const lines: { msg: string }[] = [];
    const recording = createLogger('info', {
      write: (line: string) => {
        lines.push(JSON.parse(line) as { msg: string });
      },
    });
    const recorded = await serve(store, recording);
    await store.suppress('head@example.com', { reason: 'manual' });
    const head = await recorded('HEAD', '/suppressions/export?format=jsonl');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(head.headers.get('content-disposition')).toMatch(/\.jsonl"?$/);
    expect(lines.map((line) => line.msg)).not.toContain('admin.suppressions_exported');
    expect((await recorded('HEAD', '/suppressions/export?format=xml')).status).toBe(400);

    const get = await recorded('GET', '/suppressions/export?format=jsonl');
    expect(get.text).toContain('head@example.com');
    expect(lines.map((line) => line.msg)).toContain('admin.suppressions_exported');
  });

  it('looks up, adds and removes by address in privacy mode, where entries are stored as HMACs', async () => {
    const hashed = createSuppressionStore({ redis, prefix, hashKey: 'admin-test-key' });
    const privateCall = await serve(hashed);
    const added = await privateCall('POST', '/suppressions', {
      address: 'Secret@Example.com',
      reason: 'complaint',
    });
    expect(added.status).toBe(201);
    expect(added.json.address).toBe('secret@example.com');
    expect(added.json.entry.address).toMatch(/^[0-9a-f]{64}$/);
    const found = await privateCall('GET', '/suppressions/secret%40example.com');
    expect(found.json).toMatchObject({ address: 'secret@example.com', entry: { reason: 'complaint' } });
    expect((await privateCall('DELETE', '/suppressions/secret%40example.com')).status).toBe(200);
    expect(await hashed.isSuppressed('secret@example.com')).toBe(false);
  });

  it('refuses an import over 50 MB with a JSON 413 and imports nothing', async () => {
    const huge = 'a@example.com\n'.repeat(Math.ceil((50 * 1024 * 1024 + 1) / 14));
    const imported = await call('POST', '/suppressions/import', huge, { 'content-type': 'text/csv' });
    expect(imported.status).toBe(413);
    expect(imported.json.error.code).toBe('ADMIN_PAYLOAD_TOO_LARGE');
    expect(await store.count()).toBe(0);
  });

  it('refuses an import in a form encoding, which a page on another site could post', async () => {
    for (const type of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await call('POST', '/suppressions/import', 'form@example.com,manual\n', {
        'content-type': type,
      });
      expect(res.status, type).toBe(415);
      expect(res.json.error, type).toMatchObject({ code: 'ADMIN_UNSUPPORTED_MEDIA_TYPE', field: 'body' });
      expect(res.json.error.message, type).toContain('text/csv');
    }
    expect(await store.count()).toBe(0);
    for (const type of ['text/csv', 'application/x-ndjson', 'application/json', 'application/octet-stream']) {
      const line =
        type === 'text/csv' || type === 'application/octet-stream'
          ? 'ok@example.com'
          : '{"address":"ok@example.com"}';
      const res = await call('POST', '/suppressions/import', line, { 'content-type': type });
      expect(res.json, type).toMatchObject({ invalid: 0 });
    }
    expect(await store.isSuppressed('ok@example.com')).toBe(true);
  });

  it('says a JSON array is not JSON lines, for the whole body, and imports none of it', async () => {
    const array = '[\n  {"address":"arr1@example.com"},\n  {"address":"arr2@example.com"}\n]\n';
    for (const type of ['application/json', 'application/octet-stream']) {
      const res = await call('POST', '/suppressions/import', array, { 'content-type': type });
      expect(res.status, type).toBe(400);
      expect(res.json.error, type).toEqual({
        code: 'ADMIN_BAD_REQUEST',
        message: 'body: a JSON array; send JSON lines (one object per line, no brackets) or CSV',
        field: 'body',
      });
    }
    expect(await store.count()).toBe(0);
  });

  it('never answers a JSON lookup of "export" with the whole list', async () => {
    await store.suppress('listed@example.com', { reason: 'manual' });
    for (const path of [
      '/suppressions/export',
      '/suppressions/Export',
      '/suppressions/export?format=jsonl',
    ]) {
      const res = await call('GET', path, undefined, { accept: 'application/json' });
      expect(res.status, path).toBe(406);
      expect(res.json.error.code, path).toBe('ADMIN_NOT_ACCEPTABLE');
      expect(res.text, path).not.toContain('listed@example.com');
    }
    // What curl and a download ask for still gets the list.
    for (const accept of ['*/*', 'text/csv', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
      const res = await call('GET', '/suppressions/export', undefined, { accept });
      expect(res.status, accept).toBe(200);
      expect(res.text, accept).toContain('listed@example.com');
    }
  });

  it('looks up and removes an entry by the HMAC id the list shows in privacy mode', async () => {
    const hashed = createSuppressionStore({ redis, prefix, hashKey: 'admin-test-key' });
    const privateCall = await serve(hashed);
    await hashed.suppress('hidden@example.com', { reason: 'bounce' });
    const listed = await privateCall('GET', '/suppressions');
    const id = listed.json.items[0].address as string;
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const found = await privateCall('GET', `/suppressions/${id.toUpperCase()}`);
    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({ address: id, entry: { address: id, reason: 'bounce' } });
    const removed = await privateCall('DELETE', `/suppressions/${id}`);
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({ removed: true, address: id });
    expect(await hashed.isSuppressed('hidden@example.com')).toBe(false);
    expect((await privateCall('GET', `/suppressions/${id}`)).status).toBe(404);

    // Without privacy mode an id names nothing: it is not an address.
    const plain = await call('GET', `/suppressions/${id}`);
    expect(plain.status).toBe(400);
    expect(plain.json.error).toMatchObject({ code: 'ADMIN_BAD_REQUEST', field: 'address' });
    const bad = await privateCall('GET', '/suppressions/abc123');
    expect(bad.json.error.message).toBe('address: not an email address or an entry id');
  });
});
