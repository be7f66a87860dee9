// Queue control through the admin API against a real BullMQ queue (pause and resume through the shared
// hold, retrying failed jobs), and the Bull Board dashboard behind the admin auth: its refused
// actions (completed jobs are never rerun), its CSP and the caching of its static files.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminRouter } from '../../src/admin/index.js';
import { QUEUE_BOARD_CSP } from '../../src/admin/queue-board.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const AUTH = { user: 'ops', password: 'correct horse battery staple' };
const BASIC = `Basic ${Buffer.from(`${AUTH.user}:${AUTH.password}`).toString('base64')}`;
const prefix = uniquePrefix('admin-queue');
const redis = new Redis(TEST_REDIS_URL);
const keys = createKeys(prefix);
const logLines: { msg: string; err?: string }[] = [];
const logger = createLogger('info', {
  write: (line: string) => {
    logLines.push(JSON.parse(line) as { msg: string; err?: string });
  },
});
const queue = createOutboundQueue({
  connection: redis,
  keys,
  retry: { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 },
  completedRetentionMs: 60_000,
  failedRetentionMs: 60_000,
  logger,
});
const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
const admin = createAdminRouter({
  redis,
  prefix,
  queue,
  holds,
  suppression: createSuppressionStore({ redis, prefix }),
  trace: createTraceStore(redis, prefix, 60_000),
  logger,
  auth: AUTH,
});
let server: http.Server;
let origin: string;

beforeAll(async () => {
  const app = express();
  // As src/http/server.ts does: whatever sends the header then comes from the admin routers.
  app.disable('x-powered-by');
  app.use(admin.router);
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await queue.close();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(origin + path, {
    method,
    headers: { authorization: BASIC, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined;
  return { status: res.status, json, text, headers: res.headers };
}

/** Fails `count` jobs for real: a worker whose processor throws, on its own blocking connection. */
async function failJobs(count: number, tag: string): Promise<void> {
  await queue.addBulk(
    Array.from({ length: count }, (_, i) => ({
      name: 'send',
      data: { queueId: `${tag}${i}` } as never,
      opts: { jobId: `${tag}${i}` },
    })),
  );
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(
    OUTBOUND_QUEUE,
    () => {
      throw new Error('SES said no');
    },
    { connection, prefix: keys.bullPrefix },
  );
  await waitFor(async () => (await queue.getFailedCount()) >= count, { what: `${count} failed jobs` });
  await worker.close();
  await connection.quit();
}

/** Completes `count` jobs for real: a worker whose processor returns. */
async function completeJobs(count: number, tag: string): Promise<void> {
  await queue.addBulk(
    Array.from({ length: count }, (_, i) => ({
      name: 'send',
      data: { queueId: `${tag}${i}` } as never,
      opts: { jobId: `${tag}${i}` },
    })),
  );
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(OUTBOUND_QUEUE, () => Promise.resolve({}), {
    connection,
    prefix: keys.bullPrefix,
  });
  await waitFor(async () => (await queue.getCompletedCount()) >= count, { what: `${count} completed jobs` });
  await worker.close();
  await connection.quit();
}

describe('admin API: queue control', () => {
  it('pauses with the reason in the shared hold and resumes', async () => {
    const paused = await call('POST', '/admin/api/queue/pause', { reason: 'DNS change' });
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({ fresh: true, hold: { by: 'operator', reason: 'DNS change' } });
    expect(await queue.isPaused()).toBe(true);
    expect(await redis.hgetall(keys.sendingHold)).toMatchObject({ by: 'operator', reason: 'DNS change' });

    const again = await call('POST', '/admin/api/queue/pause', { reason: 'second thoughts' });
    expect(again.json).toMatchObject({ fresh: false, hold: { reason: 'DNS change' } });
    expect((await call('GET', '/admin/api/stats')).json.hold).toMatchObject({ reason: 'DNS change' });

    const resumed = await call('POST', '/admin/api/queue/resume');
    expect(resumed.json).toMatchObject({ previous: { by: 'operator', reason: 'DNS change' } });
    expect(await queue.isPaused()).toBe(false);
    expect(await redis.exists(keys.sendingHold)).toBe(0);
    expect((await call('POST', '/admin/api/queue/resume', {})).json).toEqual({ previous: null });
  });

  it('pauses without a reason as the CLI does, recording a default one', async () => {
    const paused = await call('POST', '/admin/api/queue/pause');
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({
      fresh: true,
      hold: { by: 'operator', reason: 'paused by an operator' },
    });
    await call('POST', '/admin/api/queue/resume');
  });

  it('retries up to N failed jobs, then all of them, with fresh attempts', async () => {
    await failJobs(5, 'fail-');
    const some = await call('POST', '/admin/api/queue/retry-failed', { limit: 2 });
    expect(some.json).toEqual({ retried: 2, skipped: 0 });
    expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 3, waiting: 2 });

    const all = await call('POST', '/admin/api/queue/retry-failed', {});
    expect(all.json).toEqual({ retried: 3, skipped: 0 });
    expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 5 });
    const job = await queue.getJob('fail-4');
    expect(job?.attemptsMade).toBe(0);
    expect(await job?.getState()).toBe('waiting');

    const stats = (await call('GET', '/admin/api/stats')).json;
    expect(stats.queue.counts).toMatchObject({ waiting: 5, failed: 0 });
    expect(stats.queue.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);
    expect((await call('POST', '/admin/api/queue/retry-failed')).json).toEqual({ retried: 0, skipped: 0 });
  });
});

describe('queue dashboard', () => {
  it('serves Bull Board behind the admin auth, listing the outbound queue', async () => {
    const page = await call('GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('<base href="/admin/queues/"');
    expect(page.text).toContain('<title>ses-relay queues</title>');
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)![1]!;
    const asset = await call('GET', `/admin/queues/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);

    const list = await call('GET', '/admin/queues/api/queues');
    expect(list.status).toBe(200);
    const queues = list.json.queues as { name: string }[];
    expect(queues.map((q) => q.name)).toEqual([OUTBOUND_QUEUE]);

    const anonymous = await fetch(`${origin}/admin/queues/api/queues`);
    expect(anonymous.status).toBe(401);
  });

  it('lets the board retry and clean jobs, and refuses actions that bypass the gateway', async () => {
    await queue.drain(true);
    await failJobs(2, 'board-');
    const retried = await call('PUT', `/admin/queues/api/queues/${OUTBOUND_QUEUE}/retry/failed`);
    expect(retried.status).toBe(200);
    expect(await queue.getFailedCount()).toBe(0);

    for (const [method, path] of [
      ['PUT', '/pause'],
      ['PUT', '/Empty'],
      ['PUT', '/obliterate'],
      ['POST', '/add'],
      ['PATCH', '/board-0/update-data'],
    ] as const) {
      const res = await call(method, `/admin/queues/api/queues/${OUTBOUND_QUEUE}${path}`, {});
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error.code).toBe('ADMIN_FORBIDDEN');
    }
    expect(await queue.isPaused()).toBe(false);
    expect(await queue.getWaitingCount()).toBeGreaterThan(0);
  });

  it('cleans completed and failed jobs only, never queued mail', async () => {
    await queue.drain(true);
    await failJobs(1, 'clean-failed-');
    await queue.add('send', { queueId: 'clean-wait' } as never, { jobId: 'clean-wait' });
    await queue.add('send', { queueId: 'clean-delayed' } as never, { jobId: 'clean-delayed', delay: 60_000 });
    await queue.add('send', { queueId: 'clean-prio' } as never, { jobId: 'clean-prio', priority: 5 });
    const before = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'failed');
    expect(before).toEqual({ waiting: 1, delayed: 1, prioritized: 1, failed: 1 });

    const board = `/admin/queues/api/queues/${OUTBOUND_QUEUE}`;
    for (const status of ['wait', 'waiting', 'delayed', 'prioritized', 'paused', 'active', 'bogus', 'Wait']) {
      const res = await call('PUT', `${board}/clean/${status}`);
      expect(res.status, status).toBe(403);
      expect(res.json.error.code, status).toBe('ADMIN_FORBIDDEN');
    }
    for (const id of ['clean-wait', 'clean-delayed', 'clean-prio']) {
      const res = await call('PUT', `${board}/${id}/clean`);
      expect(res.status, id).toBe(403);
      expect(res.json.error.code, id).toBe('ADMIN_FORBIDDEN');
    }
    expect(await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'failed')).toEqual(before);

    for (const status of ['completed', 'failed']) {
      expect((await call('PUT', `${board}/clean/${status}`)).status, status).toBe(200);
    }
    expect((await call('PUT', `${board}/clean-failed-0/clean`)).status).toBe(204);
    expect(await queue.getJob('clean-failed-0')).toBeUndefined();
    expect(await queue.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({
      waiting: 1,
      delayed: 1,
      prioritized: 1,
    });
  });

  it('cleans one finished job with every key it had, and answers 404 for a job the queue does not hold', async () => {
    await queue.drain(true);
    await failJobs(1, 'gone-failed-');
    await completeJobs(1, 'gone-done-');
    const board = `/admin/queues/api/queues/${OUTBOUND_QUEUE}`;
    for (const id of ['gone-failed-0', 'gone-done-0']) {
      await (await queue.getJob(id))!.log('a line for the logs key');
      expect((await call('PUT', `${board}/${id}/clean`)).status, id).toBe(204);
      expect(await redis.keys(`${queue.toKey(id)}*`), id).toEqual([]);
    }
    const removed = await redis.xrange(queue.keys.events!, '-', '+');
    const events = removed.map(([, fields]) => fields.join(' '));
    expect(events).toContain('event removed jobId gone-failed-0 prev failed');
    expect(events).toContain('event removed jobId gone-done-0 prev completed');
    const missing = await call('PUT', `${board}/no-such-job/clean`);
    expect([missing.status, missing.json]).toEqual([
      404,
      { error: { code: 'ADMIN_NOT_FOUND', message: 'No such job' } },
    ]);
  });

  it("never deletes a message that an operator's retry put back in the queue while the board cleaned it", async () => {
    const lost: string[] = [];
    for (let round = 0; round < 8; round++) {
      await queue.drain(true);
      await queue.clean(0, 0, 'failed');
      await failJobs(1, `race-${round}-`);
      const id = `race-${round}-0`;
      // Two operators at once: one cleans the failed job on the dashboard, one retries failed mail.
      const [clean, retry] = await Promise.all([
        call('PUT', `/admin/queues/api/queues/${OUTBOUND_QUEUE}/${id}/clean`),
        call('POST', '/admin/api/queue/retry-failed', {}),
      ]);
      const state = await queue.getJobState(id);
      // Either order is fine: cleaned first (retried 0, job gone), or retried first (the clean
      // refused, the job waiting). Retried and then gone is queued mail deleted.
      const outcome = { clean: clean.status, retried: (retry.json as { retried: number }).retried, state };
      if (
        !(outcome.clean === 204 && outcome.retried === 0 && state === 'unknown') &&
        !(outcome.clean === 403 && outcome.retried === 1 && state === 'waiting')
      )
        lost.push(`${id}: ${JSON.stringify(outcome)}`);
    }
    expect(lost).toEqual([]);
  });

  it.each(['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=b'])(
    'refuses a dashboard state change sent as %s with 415, as the admin API does, even empty',
    async (type) => {
      await queue.drain(true);
      await queue.clean(0, 0, 'failed');
      await failJobs(1, 'form-');
      const send = async (method: string, path: string) => {
        const res = await fetch(origin + path, {
          method,
          headers: { authorization: BASIC, 'content-type': type },
          body: '',
        });
        return { path, status: res.status, body: await res.json() };
      };
      const refused = {
        status: 415,
        body: { error: { code: 'ADMIN_UNSUPPORTED_MEDIA_TYPE', field: 'body' } },
      };
      expect(await send('POST', '/admin/api/queue/resume')).toMatchObject(refused);
      const board = `/admin/queues/api/queues/${OUTBOUND_QUEUE}`;
      for (const action of ['/clean/failed', '/retry/failed', '/promote', '/form-0/clean', '/form-0/retry'])
        expect(await send('PUT', board + action)).toMatchObject({ path: board + action, ...refused });
      expect(await queue.getJobState('form-0')).toBe('failed');
    },
  );

  it('answers a board action that fails with a JSON 500 that says nothing of the failure, and logs it', async () => {
    await queue.drain(true);
    await queue.clean(0, 0, 'failed');
    await failJobs(1, 'promote-');
    // BullMQ throws: only a delayed job can be promoted.
    const res = await call('PUT', `/admin/queues/api/queues/${OUTBOUND_QUEUE}/promote-0/promote`);
    expect([res.status, res.json]).toEqual([
      500,
      { error: { code: 'ADMIN_INTERNAL', message: 'Internal error' } },
    ]);
    expect(logLines.filter((line) => line.msg === 'admin.error').at(-1)?.err).toMatch(/promote-0/);
  });

  it("answers the board's malformed requests in the admin API's error shape, without echoing them", async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
    const notJson = await fetch(`${origin}/admin/queues/api/queues/${OUTBOUND_QUEUE}/x/priority`, {
      method: 'PATCH',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: 'notjson',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('x-powered-by')).toBeNull();
    expect(await notJson.json()).toEqual({
      error: { code: 'ADMIN_BAD_REQUEST', message: 'body: not valid JSON', field: 'body' },
    });
    for (const [method, path] of [
      ['GET', '/%ZZ'],
      ['GET', '/%ZZ/logs'],
      ['PUT', '/%E0%A4%A/retry'],
    ] as const) {
      const res = await call(method, `/admin/queues/api/queues/${OUTBOUND_QUEUE}${path}`);
      expect(res.status, path).toBe(400);
      expect(res.json, path).toEqual({
        error: { code: 'ADMIN_BAD_REQUEST', message: 'path: not valid percent-encoding', field: 'path' },
      });
    }
  });

  it('refuses to rerun completed jobs, all at once or one by one, and still retries failed ones', async () => {
    await queue.drain(true);
    await queue.clean(0, 0, 'completed');
    await completeJobs(2, 'done-');
    await failJobs(1, 'redo-');
    const board = `/admin/queues/api/queues/${OUTBOUND_QUEUE}`;
    for (const path of [`${board}/retry/completed`, `${board}/retry/COMPLETED`, `${board}/done-0/retry`]) {
      const res = await call('PUT', path);
      expect(res.status, path).toBe(403);
      expect(res.json.error, path).toEqual({
        code: 'ADMIN_FORBIDDEN',
        message:
          'Completed jobs cannot be retried: the message was delivered and its bytes are gone. To send it again, submit it again',
      });
    }
    expect(await queue.getJobCounts('completed', 'waiting')).toEqual({ completed: 2, waiting: 0 });
    expect(await queue.getJobState('done-1')).toBe('completed');

    expect((await call('PUT', `${board}/redo-0/retry`)).status).toBe(204);
    expect(await queue.getJobState('redo-0')).toBe('waiting');
    // A job the queue does not hold is the board's to answer.
    expect((await call('PUT', `${board}/no-such-job/retry`)).status).toBe(404);
  });

  it('sends a CSP that keeps the board on this origin, and lets its static files be cached', async () => {
    const page = await call('GET', '/admin/queues/');
    expect(page.headers.get('content-security-policy')).toBe(QUEUE_BOARD_CSP);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).not.toContain('fonts.googleapis.com');
    expect(page.text).not.toMatch(/(src|href)="https?:/);

    const script = /src="(static\/js\/main\.[0-9a-f]+\.js)"/.exec(page.text)![1]!;
    const bundle = await call('GET', `/admin/queues/${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const icon = await call('GET', '/admin/queues/static/images/logo.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('private, max-age=86400');
    // Data never is.
    expect((await call('GET', '/admin/queues/api/queues')).headers.get('cache-control')).toBe('no-store');
    // Nor is anything outside static/ (a path ending like a bundle included).
    expect((await call('GET', '/admin/queues/queue/main.0123456789.js')).headers.get('cache-control')).toBe(
      'no-store',
    );
  });
});
