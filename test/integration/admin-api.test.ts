// The admin JSON API against real Redis: message lookup by each kind of id, stats, and the error
// contract (400 naming the field, 404, 413, 415, 503 while Redis is down). Suppression routes:
// admin-suppressions.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminRouter } from '../../src/admin/index.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createDailyQuota } from '../../src/queue/quota.js';
import { createKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisFactory } from '../../src/shared/redis.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { createFeedbackKeys } from '../../src/webhook/keys.js';
import { utcDay } from '../../src/webhook/stats.js';
import {
  deleteKeys,
  startPrivateRedis,
  TEST_REDIS_URL,
  uniquePrefix,
  type PrivateRedis,
} from '../helpers/redis.js';

const TOKEN = 'admin-api-test-token';
const DAY_MS = 86_400_000;
const prefix = uniquePrefix('admin-api');
const redis = new Redis(TEST_REDIS_URL);
const keys = createKeys(prefix);
const logger = createLogger('silent');
const retry = { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 };
const queue = createOutboundQueue({
  connection: redis,
  keys,
  retry,
  completedRetentionMs: 60_000,
  failedRetentionMs: 60_000,
  logger,
});
const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
const store = createSuppressionStore({ redis, prefix });
const trace = createTraceStore(redis, prefix, 60_000);
const admin = createAdminRouter({
  redis,
  prefix,
  queue,
  holds,
  suppression: store,
  trace,
  logger,
  auth: { token: TOKEN },
});
let server: http.Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(admin.router);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/api`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await queue.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const isText = typeof body === 'string';
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined || isText ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const json =
    res.headers.get('content-type')?.startsWith('application/json') && text ? JSON.parse(text) : undefined;
  return { status: res.status, json, text, headers: res.headers };
}

describe('admin API: messages and stats', () => {
  it('finds a message by queue id, Message-ID and SES MessageId, with its job state', async () => {
    const at = Date.now();
    await trace.record('QADMIN1', {
      type: 'accepted',
      at,
      clientIp: '10.0.0.5',
      from: 'app@example.com',
      recipients: ['to@example.net'],
      size: 1234,
      messageId: 'lookup-1@app.example',
    });
    await trace.record('QADMIN1', {
      type: 'ses-call',
      at: at + 5,
      outcome: 'sent',
      sesMessageId: '0100-admin-ses-1',
      recipients: 1,
      chunk: 0,
    });
    await queue.add('send', { queueId: 'QADMIN1' } as never, { jobId: 'QADMIN1' });
    for (const id of ['QADMIN1', 'lookup-1@app.example', '<lookup-1@app.example>', '0100-admin-ses-1']) {
      const res = await call('GET', `/messages/${encodeURIComponent(id)}`);
      expect(res.status, id).toBe(200);
      expect(res.json).toMatchObject({
        queueId: 'QADMIN1',
        summary: { from: 'app@example.com', sesMessageIds: ['0100-admin-ses-1'], lastOutcome: 'sent' },
        job: { id: 'QADMIN1', state: 'waiting', attemptsMade: 0 },
      });
      const events = res.json.events as { type: string }[];
      expect(events.map((e) => e.type)).toEqual(['accepted', 'ses-call']);
    }
    const missing = await call('GET', '/messages/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: 'ADMIN_NOT_FOUND', field: 'id' });
  });

  it('reports daily figures, 30-day rates, queue depth, quota, pacing, list size and hold', async () => {
    const now = Date.now();
    const feedback = createFeedbackKeys(prefix);
    await redis.hset(feedback.statsDay(utcDay(now)), {
      sent: 1000,
      delivered: 990,
      bounced_hard: 20,
      complained: 1,
    });
    await redis.hset(feedback.statsDay(utcDay(now - 3 * DAY_MS)), { sent: 1000, bounced_soft: 4 });
    // Outside the 14-day chart but inside the 30-day rate window.
    await redis.hset(feedback.statsDay(utcDay(now - 20 * DAY_MS)), { sent: 2000, bounced_hard: 20 });
    const account = {
      maxSendRate: 14,
      max24HourSend: 50_000,
      sentLast24Hours: 80,
      sendingEnabled: true,
      productionAccess: true,
      enforcementStatus: 'HEALTHY',
      readAt: now,
    };
    await redis.set(keys.accountState, JSON.stringify({ account, ratePerSecond: 11.2, at: now }));
    await createDailyQuota(redis, keys.dailyQuota).reserve(120, Infinity);
    await store.suppress('stat@example.com', { reason: 'manual' });

    const res = await call('GET', '/stats');
    expect(res.status).toBe(200);
    const stats = res.json;
    const days = stats.days as unknown[];
    expect(days).toHaveLength(14);
    expect(days.at(-1)).toEqual({
      day: utcDay(now),
      sent: 1000,
      delivered: 990,
      bounced: 20,
      bouncedHard: 20,
      complained: 1,
    });
    expect(days.at(-4)).toMatchObject({ sent: 1000, bounced: 4, bouncedHard: 0 });
    expect(stats.rates).toEqual({
      windowDays: 30,
      sent: 4000,
      bouncedHard: 40,
      complained: 1,
      bounceRate: 0.01,
      complaintRate: 0.00025,
    });
    expect(stats.quota).toMatchObject({
      sentLast24Hours: 120,
      max24HourSend: 50_000,
      headroom: 49_880,
      account,
    });
    expect(stats.quota.used).toBeCloseTo(120 / 50_000);
    expect(stats.pacing).toEqual({ ratePerSecond: 11.2, at: now });
    expect(stats.suppressions).toEqual({ count: 1 });
    expect(stats.queue.counts).toHaveProperty('waiting');
    expect(stats.hold).toBeNull();

    expect((await call('GET', '/stats?days=3')).json.days).toHaveLength(3);
  });
});

describe('admin API: errors', () => {
  it('answers 400 naming the field', async () => {
    const cases: [string, string, unknown, string][] = [
      ['POST', '/suppressions', {}, 'address'],
      ['POST', '/suppressions', { address: 'nope' }, 'address'],
      ['POST', '/suppressions', { address: 'x@example.com', reason: 'spite' }, 'reason'],
      ['POST', '/suppressions', { address: 'x@example.com', expiresAt: 'soon' }, 'expiresAt'],
      ['POST', '/suppressions', { address: 'x@example.com', expiresAt: '2000-01-01' }, 'expiresAt'],
      ['POST', '/suppressions', { address: 'x@example.com', expiresAt: Date.now() - 1000 }, 'expiresAt'],
      ['POST', '/suppressions', { address: 'x@example.com', colour: 'red' }, 'colour'],
      ['GET', '/suppressions?limit=0', undefined, 'limit'],
      ['GET', '/suppressions?limit=ten', undefined, 'limit'],
      ['GET', '/suppressions?reason=spite', undefined, 'reason'],
      ['GET', '/suppressions?since=yesterday', undefined, 'since'],
      ['GET', '/suppressions?cursor=garbage', undefined, 'cursor'],
      ['GET', '/suppressions/not-an-address', undefined, 'address'],
      ['GET', '/suppressions/export?format=xml', undefined, 'format'],
      ['GET', '/stats?days=99', undefined, 'days'],
      ['POST', '/queue/pause', { reason: ' ' }, 'reason'],
      ['POST', '/queue/retry-failed', { limit: -1 }, 'limit'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.json.error, `${method} ${path}`).toMatchObject({ code: 'ADMIN_BAD_REQUEST', field });
      expect(res.json.error.message).toContain(field);
    }
    const malformed = await call('POST', '/suppressions', '{"address":', {
      'content-type': 'application/json',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toEqual({
      code: 'ADMIN_BAD_REQUEST',
      message: 'body: not valid JSON',
      field: 'body',
    });
    expect(await store.get('x@example.com')).toBeNull();
  });

  it('says a JSON body that is not an object is not one, rather than not JSON', async () => {
    for (const body of ['"x"', 'null', '42', ' true ']) {
      const res = await call('POST', '/suppressions', body, { 'content-type': 'application/json' });
      expect(res.status, body).toBe(400);
      expect(res.json.error, body).toEqual({
        code: 'ADMIN_BAD_REQUEST',
        message: 'body: expected a JSON object',
        field: 'body',
      });
    }
  });

  it('suppresses until a future expiresAt', async () => {
    const expiresAt = new Date(Date.now() + DAY_MS).toISOString();
    const res = await call('POST', '/suppressions', { address: 'later@example.com', expiresAt });
    expect(res.status).toBe(201);
    expect(await store.isSuppressed('later@example.com')).toBe(true);
  });

  it('answers unknown API routes with a JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/suppressions/a@example.com/extra'],
      ['PUT', '/stats'],
      ['GET', '/suppressions/import'],
      ['DELETE', '/suppressions/import'],
      ['DELETE', '/suppressions/IMPORT/'],
      ['DELETE', '/suppressions/export'],
      ['POST', '/suppressions/export'],
    ] as const) {
      const res = await call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json).toEqual({ error: { code: 'ADMIN_NOT_FOUND', message: 'No such admin API route' } });
    }
  });

  it('answers 413 in JSON for a body over its limit', async () => {
    const big = { address: 'x@example.com', pad: 'x'.repeat(1024 * 1024) };
    const json = await call('POST', '/suppressions', big);
    expect(json.status).toBe(413);
    expect(json.json.error.code).toBe('ADMIN_PAYLOAD_TOO_LARGE');
    expect(await store.get('x@example.com')).toBeNull();
  });

  it('answers 415 for a body that is not JSON, rather than ignoring it', async () => {
    const form = await call('POST', '/queue/retry-failed', 'limit=5', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(form.json.error).toMatchObject({ code: 'ADMIN_UNSUPPORTED_MEDIA_TYPE', field: 'body' });
  });
});

describe('admin API: Redis down', () => {
  const lines: { msg: string; level: number; path?: string }[] = [];
  const recording = createLogger('info', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as { msg: string; level: number });
    },
  });
  const UNAVAILABLE = { error: { code: 'ADMIN_REDIS_UNAVAILABLE', message: 'Redis unreachable' } };
  let down: PrivateRedis;
  let client: Redis;
  let ownQueue: ReturnType<typeof createOutboundQueue>;
  let downServer: http.Server;
  let url: string;

  beforeAll(async () => {
    down = await startPrivateRedis();
    // The HTTP role's kind of connection: one retry, then the command fails.
    client = createRedisFactory({
      url: down.url,
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger: recording,
    })('command', 'http');
    const ownKeys = createKeys('t-admin-down');
    ownQueue = createOutboundQueue({
      connection: client,
      keys: ownKeys,
      retry,
      completedRetentionMs: 60_000,
      failedRetentionMs: 60_000,
      logger: recording,
    });
    const ownStore = createSuppressionStore({ redis: client, prefix: 't-admin-down' });
    const downAdmin = createAdminRouter({
      redis: client,
      prefix: 't-admin-down',
      queue: ownQueue,
      holds: createSendingHolds({
        redis: client,
        queue: ownQueue,
        holdKey: ownKeys.sendingHold,
        throttleKey: ownKeys.throttle,
      }),
      suppression: ownStore,
      trace: createTraceStore(client, 't-admin-down', 60_000),
      logger: recording,
      auth: { token: TOKEN },
    });
    const app = express();
    app.use(downAdmin.router);
    downServer = http.createServer(app);
    await new Promise<void>((resolve) => downServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(downServer.address() as AddressInfo).port}/admin`;
    // Something to export, and proof that every route below works while Redis is up.
    await ownStore.suppress('listed@example.net', { reason: 'manual' });
    for (const path of ['/api/stats', '/api/suppressions/export', '/queues/api/queues'])
      expect((await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } })).status, path).toBe(
        200,
      );
    await down.kill();
  });
  afterAll(async () => {
    await new Promise((resolve) => downServer.close(resolve));
    client.disconnect();
    await ownQueue.close().catch(() => undefined);
    await down.stop();
  });

  /** Status, headers and body of a request; `body` is null when the connection was cut mid-answer. */
  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text().catch(() => null);
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      disposition: res.headers.get('content-disposition'),
      body: text === null ? null : (JSON.parse(text) as unknown),
    };
  }

  it('answers 503 "Redis unreachable" rather than an internal error, and logs it as such', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/stats', undefined],
      ['GET', '/api/suppressions/a@example.com', undefined],
      ['POST', '/api/suppressions', { address: 'a@example.com' }],
      ['POST', '/api/queue/pause', {}],
    ] as const) {
      expect({ path, ...(await call(method, path, body)) }).toMatchObject({
        path,
        status: 503,
        body: UNAVAILABLE,
      });
    }
    expect(lines.map((line) => line.msg)).toContain('admin.redis_unavailable');
    expect(lines.map((line) => line.msg)).not.toContain('admin.error');
  });

  it.each(['csv', 'jsonl'])(
    'answers the %s export with a JSON 503, not a download cut off after its first line',
    async (format) => {
      expect(await call('GET', `/api/suppressions/export?format=${format}`)).toEqual({
        status: 503,
        type: 'application/json; charset=utf-8',
        disposition: null,
        body: UNAVAILABLE,
      });
    },
  );

  it("answers the queue dashboard's API with 503 in the admin's error shape, not a 500 quoting ioredis", async () => {
    const before = lines.length;
    for (const [method, path] of [
      ['GET', '/queues/api/queues'],
      ['PUT', '/queues/api/queues/outbound/retry/failed'],
    ] as const) {
      expect({ path, ...(await call(method, path)) }).toMatchObject({
        path,
        status: 503,
        type: 'application/json; charset=utf-8',
        body: UNAVAILABLE,
      });
    }
    const logged = lines.slice(before);
    expect(logged.filter((line) => line.msg === 'admin.redis_unavailable')).toHaveLength(2);
    expect(logged.map((line) => line.msg)).not.toContain('admin.error');
  });
});
