// The admin page in a real browser (Debian's Chromium driven by playwright-core) against real Redis:
// the chart renders, a suppression is found, removed and added, a message's timeline shows, token
// sign-in works (and says when a token is wrong), retrying failed jobs asks first, the page fits a
// phone, a Redis outage shows as such, Bull Board runs under its CSP, and a hostile page on another
// site cannot use the operator's credentials. Skipped, with the reason printed, only when Chromium
// cannot be launched.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminRouter, type AdminAuthOptions } from '../../src/admin/index.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisFactory } from '../../src/shared/redis.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { createFeedbackKeys } from '../../src/webhook/keys.js';
import { utcDay } from '../../src/webhook/stats.js';
import { deleteKeys, startPrivateRedis, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = '/tmp/admin-page.png';
const USER = 'ops';
const PASSWORD = 'page-test-password';
const TOKEN = 'page-test-token';
const DAY_MS = 86_400_000;

const BASIC = { httpCredentials: { username: USER, password: PASSWORD } };

/** A fresh profile per browser: `--user-data-dir` goes through launchPersistentContext. */
async function launch(
  options: {
    httpCredentials?: { username: string; password: string };
    viewport?: { width: number; height: number };
    args?: string[];
  } = {},
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launchProblem(): Promise<string | undefined> {
  try {
    await (await launch()).close();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

const problem = await launchProblem();
if (problem)
  console.warn(
    `admin-page: skipping the browser tests, Chromium (${CHROMIUM}) cannot be launched: ${problem}`,
  );

const prefix = uniquePrefix('admin-page');
const redis = new Redis(TEST_REDIS_URL);
const keys = createKeys(prefix);
const logger = createLogger('silent');
const servers: http.Server[] = [];

/** What the admin router reads and writes: one deployment's queue and stores under `prefix`. */
function adminDeps(client: Redis, prefixOf: string) {
  const ownKeys = createKeys(prefixOf);
  const queue = createOutboundQueue({
    connection: client,
    keys: ownKeys,
    retry: { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 },
    completedRetentionMs: 60_000,
    failedRetentionMs: 60_000,
    logger,
  });
  const holds = createSendingHolds({
    redis: client,
    queue,
    holdKey: ownKeys.sendingHold,
    throttleKey: ownKeys.throttle,
  });
  const suppression = createSuppressionStore({ redis: client, prefix: prefixOf });
  const trace = createTraceStore(client, prefixOf, 60_000);
  return { redis: client, prefix: prefixOf, queue, holds, suppression, trace, logger };
}
const deps = adminDeps(redis, prefix);
const { queue, suppression: store, trace } = deps;

async function listen(app: http.RequestListener): Promise<string> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function serve(auth: AdminAuthOptions, over = deps): Promise<string> {
  const admin = createAdminRouter({ ...over, auth });
  const app = express();
  app.use(admin.router);
  return listen(app);
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

/** A quiet deployment: one message and one bounce in 14 days, so every scale is as small as it gets. */
async function seedQuiet(prefixOf: string): Promise<void> {
  await redis.hset(createFeedbackKeys(prefixOf).statsDay(utcDay(Date.now())), {
    sent: 1,
    delivered: 0,
    bounced_hard: 1,
  });
}

async function seed(): Promise<void> {
  const feedback = createFeedbackKeys(prefix);
  const now = Date.now();
  for (let i = 0; i < 14; i++) {
    const sent = 800 + ((i * 137) % 500);
    await redis.hset(feedback.statsDay(utcDay(now - i * DAY_MS)), {
      sent,
      delivered: sent - 20,
      bounced_hard: 5 + (i % 4) * 3,
      bounced_soft: i % 3,
      complained: i % 5 === 0 ? 2 : 0,
    });
  }
  const account = {
    maxSendRate: 14,
    max24HourSend: 50_000,
    sentLast24Hours: 1200,
    sendingEnabled: true,
    productionAccess: true,
    enforcementStatus: 'HEALTHY',
    readAt: now,
  };
  await redis.set(keys.accountState, JSON.stringify({ account, ratePerSecond: 12.6, at: now }));
  await store.suppress('remove-me@example.com', {
    reason: 'bounce',
    bounceType: 'Permanent',
    bounceSubType: 'General',
  });
  await store.suppress('keep@example.com', { reason: 'complaint' });
  const at = now - 60_000;
  await trace.record('QPAGE1', {
    type: 'accepted',
    at,
    clientIp: '10.1.2.3',
    user: 'app',
    from: 'news@example.com',
    recipients: ['reader@example.net'],
    size: 4321,
    messageId: 'page-test-1@news.example',
  });
  await trace.record('QPAGE1', {
    type: 'ses-call',
    at: at + 800,
    outcome: 'sent',
    sesMessageId: '0100-page-1',
    recipients: 1,
    chunk: 0,
  });
  await trace.recordSesEvent('0100-page-1', {
    type: 'ses-event',
    at: at + 5000,
    event: 'Delivery',
    recipients: ['reader@example.net'],
  });
}

/** Fails the test on any script error or CSP violation the page reports. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return errors;
}

const quietPrefix = `${prefix}-quiet`;
const quiet = adminDeps(redis, quietPrefix);

// At file level, so the connections close even when the browser tests are skipped.
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await queue.close();
  await quiet.queue.close();
  await deleteKeys(redis, prefix);
  await deleteKeys(redis, quietPrefix);
  await redis.quit();
});

describe.skipIf(problem !== undefined)('admin page in a browser', () => {
  beforeAll(seed);

  it('shows the chart, finds, removes and adds a suppression, and shows a timeline (basic auth)', async () => {
    const origin = await serve({ user: USER, password: PASSWORD });
    const browser = await launch({ httpCredentials: { username: USER, password: PASSWORD } });
    const { context } = browser;
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const errors = watchErrors(page);
      await page.goto(`${origin}/admin`);
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();
      expect(await page.locator('#chart svg rect.bar-sent').count()).toBe(14);
      expect(await page.locator('#chart svg polyline.line-bounced').count()).toBe(1);
      expect(await page.locator('#chart svg polyline.line-complained').count()).toBe(1);
      await expect.poll(() => page.locator('#glance').innerText()).toMatch(/Suppressed addresses\s+2/);
      expect(await page.locator('#hold-banner').innerText()).toBe('Sending is running.');

      await page.locator('#supp-address').fill('Remove-Me@Example.com');
      await page.locator('#supp-search button[type=submit]').click();
      await page.locator('#supp-remove').waitFor();
      expect(await page.locator('#supp-result').innerText()).toMatch(/remove-me@example\.com[\s\S]*bounce/);
      await page.locator('#supp-remove').click();
      await page.getByText('remove-me@example.com was removed').waitFor();
      await waitFor(async () => (await store.get('remove-me@example.com')) === null, {
        what: 'removal in Redis',
      });

      await page.locator('#add-address').fill('added@example.com');
      await page.locator('#add-reason').selectOption('complaint');
      await page.locator('#supp-add button[type=submit]').click();
      await page.getByText('added@example.com added to the suppression list.').waitFor();
      expect((await store.get('added@example.com'))?.reason).toBe('complaint');

      await page.locator('#msg-id').fill('page-test-1@news.example');
      await page.locator('#msg-form button[type=submit]').click();
      await page.locator('ol.timeline li').nth(2).waitFor();
      const timeline = await page.locator('#msg-result').innerText();
      expect(timeline).toContain('QPAGE1');
      expect(timeline).toMatch(
        /Accepted from 10\.1\.2\.3 \(user app\): news@example\.com to reader@example\.net/,
      );
      expect(timeline).toContain('SES MessageId 0100-page-1');
      expect(timeline).toMatch(/Delivery\s*Delivery for reader@example\.net/);

      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);

      // The dashboard link leads to Bull Board, which lists the queue with the same credentials,
      // under its CSP (a violation would be a console error) and without leaving this origin.
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(origin)) outside.push(request.url());
      });
      await page.getByRole('link', { name: 'Queue dashboard' }).click();
      await page.waitForURL(/\/admin\/queues\/$/);
      await page.getByText('outbound').first().waitFor();
      await page.goto(`${origin}/admin/queues/queue/${OUTBOUND_QUEUE}`);
      await page.getByText('Latest').first().waitFor();
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('asks for the token, says when it is wrong, and keeps a right one in sessionStorage (token auth)', async () => {
    const origin = await serve({ token: TOKEN });
    const browser = await launch();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const errors = watchErrors(page);
      await page.goto(`${origin}/admin`);
      await page.locator('#token').waitFor();
      // Only basic auth opens the dashboard: no link, a note saying what it needs.
      expect(await page.getByRole('link', { name: 'Queue dashboard' }).count()).toBe(0);
      expect(await page.locator('#board-off').innerText()).toBe(
        'Queue dashboard: needs basic auth (set ADMIN_USER and ADMIN_PASSWORD)',
      );

      await page.locator('#token').fill(`${TOKEN}-wrong`);
      await page.locator('#token-form button[type=submit]').click();
      await page.getByText('That token was not accepted.').waitFor();
      expect(await page.locator('#status').getAttribute('class')).toBe('error');
      expect(await page.locator('#sign-out').isHidden()).toBe(true);
      expect(await page.locator('#token-form').isVisible()).toBe(true);
      expect(await page.evaluate('sessionStorage.getItem("ses-relay-admin-token")')).toBeNull();

      await page.locator('#token').fill(TOKEN);
      await page.locator('#token-form button[type=submit]').click();
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();
      await page.getByText('Signed in.').waitFor();
      expect(await page.locator('#sign-out').isVisible()).toBe(true);
      // A string, not a function: the test project is type-checked without the DOM library.
      expect(await page.evaluate('sessionStorage.getItem("ses-relay-admin-token")')).toBe(TOKEN);
      await page.locator('#pause-reason').fill('browser test');
      await page.locator('#pause').click();
      await page
        .getByText(/on hold \(operator\).*browser test/)
        .first()
        .waitFor();
      expect(await redis.hget(keys.sendingHold, 'reason')).toBe('browser test');
      await page.locator('#resume').click();
      await page.getByText('Sending resumed').waitFor();
      expect(await redis.exists(keys.sendingHold)).toBe(0);
      // The 401s (the page's own, the wrong token's) are the only errors the browser may log.
      expect(errors.filter((e) => !/401/.test(e))).toEqual([]);

      // Typed in, the dashboard's address answers a plain 401, not the admin page drawn over it.
      await page.goto(`${origin}/admin/queues/`);
      expect(await page.locator('body').innerText()).toContain('ADMIN_UNAUTHORIZED');
      expect(await page.locator('#token-form').count()).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('asks before retrying failed jobs, naming how many, and retries nothing when told no', async () => {
    await failJobs(2, 'page-failed-');
    const origin = await serve({ user: USER, password: PASSWORD });
    const browser = await launch(BASIC);
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(`${origin}/admin`);
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();
      const questions: string[] = [];
      page.once('dialog', (dialog) => {
        questions.push(dialog.message());
        void dialog.dismiss();
      });
      await page.locator('#retry-failed').click();
      await page.getByText('Nothing was retried.').waitFor();
      expect(questions).toHaveLength(1);
      expect(questions[0]).toMatch(/^Retry 2 failed job\(s\)\?/);
      expect(await queue.getFailedCount()).toBe(2);

      page.once('dialog', (dialog) => void dialog.accept());
      await page.locator('#retry-failed').click();
      await page.getByText('2 failed job(s) moved back to the queue.').waitFor();
      expect(await queue.getJobCounts('failed', 'waiting')).toEqual({ failed: 0, waiting: 2 });
    } finally {
      await browser.close();
      await queue.drain(true);
    }
  });

  it('checks a lookup before sending it and explains the lines an import could not take', async () => {
    const origin = await serve({ user: USER, password: PASSWORD });
    const browser = await launch(BASIC);
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const errors = watchErrors(page);
      const asked: string[] = [];
      page.on('request', (request) => asked.push(request.url()));
      await page.goto(`${origin}/admin`);
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();

      for (const input of ['export', 'import', 'nobody']) {
        await page.locator('#supp-address').fill(input);
        await page.locator('#supp-search button[type=submit]').click();
        await page.getByText('Enter an email address, or in privacy mode the 64-hex-digit id').waitFor();
      }
      expect(asked.filter((url) => url.includes('/admin/api/suppressions/'))).toEqual([]);

      const csv = 'address,reason\nfine@example.com,manual\nnot-an-address,manual\nother@example.com,spite\n';
      await page.locator('#import-file').setInputFiles({
        name: 'list.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(csv),
      });
      await page.locator('#supp-import button[type=submit]').click();
      await page.getByText('Imported list.csv: 1 added, 0 updated, 2 invalid.').waitFor();
      expect(await page.locator('#import-result li').allInnerTexts()).toEqual([
        'Line 3: address is not an email address',
        'Line 4: reason must be one of bounce, complaint, manual, imported',
      ]);
      expect(await store.isSuppressed('fine@example.com')).toBe(true);

      await page.locator('#import-file').setInputFiles({
        name: 'list.json',
        mimeType: 'application/json',
        buffer: Buffer.from('[{"address":"arr@example.com"}]'),
      });
      await page.locator('#supp-import button[type=submit]').click();
      await page
        .getByText(
          'Could not import list.json: body: a JSON array; send JSON lines (one object per line, no brackets) or CSV',
        )
        .waitFor();
      expect(await page.locator('#import-result li').count()).toBe(0);
      expect(await store.isSuppressed('arr@example.com')).toBe(false);
      expect(errors.filter((e) => !/400/.test(e))).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('fits a 360 px screen, with chart text at its own size and whole-number ticks', async () => {
    await seedQuiet(quietPrefix);
    const origin = await serve({ user: USER, password: PASSWORD }, quiet);
    const browser = await launch({ ...BASIC, viewport: { width: 360, height: 740 } });
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const errors = watchErrors(page);
      await page.goto(`${origin}/admin`);
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();
      const [scrollWidth, clientWidth] = await page.evaluate<number[]>(
        '[document.documentElement.scrollWidth, document.documentElement.clientWidth]',
      );
      expect(scrollWidth).toBeLessThanOrEqual(clientWidth!);
      const ticks = await page.locator('#chart svg text.tick').allTextContents();
      expect(ticks).toHaveLength(10);
      for (const tick of ticks) expect(tick).toMatch(/^\d[\d,]*k?$/);
      // Drawn at the width shown, so 12 px text is about 12 px tall on screen, not scaled down.
      const heights = await page.evaluate<number[]>(
        "Array.from(document.querySelectorAll('#chart svg text')).map((t) => t.getBoundingClientRect().height)",
      );
      expect(Math.min(...heights)).toBeGreaterThanOrEqual(11);
      await page.screenshot({ path: '/tmp/admin-page-360.png', fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('says Redis is unreachable and marks the figures stale, rather than loading forever', async () => {
    const down = await startPrivateRedis();
    const client = createRedisFactory({
      url: down.url,
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger,
    })('command', 'http');
    const downDeps = adminDeps(client, `${prefix}-down`);
    const origin = await serve({ user: USER, password: PASSWORD }, downDeps);
    const browser = await launch(BASIC);
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(`${origin}/admin`);
      // Nothing was sent in this deployment: bars of no height, which are never "visible".
      await page.locator('#hold-banner', { hasText: 'Sending is running.' }).waitFor();
      await down.kill();

      await page.locator('#refresh').click();
      await page.locator('#status', { hasText: 'Redis unreachable' }).waitFor();
      expect(await page.locator('#stale').innerText()).toMatch(
        /^Figures are from .* UTC and may be out of date: Redis unreachable\.$/,
      );
      expect(await page.locator('#app').getAttribute('class')).toBe('stale');

      await page.reload();
      await page.locator('#sending-state', { hasText: 'Unknown: Redis unreachable.' }).waitFor();
      expect(await page.locator('#stale').innerText()).toBe(
        'Figures could not be loaded: Redis unreachable.',
      );
      expect(await page.locator('#status').innerText()).toBe('Redis unreachable');
    } finally {
      await browser.close();
      client.disconnect();
      await downDeps.queue.close().catch(() => undefined);
      await down.stop();
    }
  });

  it("keeps a page on another site from changing anything with the operator's basic credentials (plain HTTP)", async () => {
    const origin = await serve({ user: USER, password: PASSWORD });
    // Names that are not localhost: over plain HTTP the browser then sends no Sec-Fetch-Site.
    const admin = origin.replace('127.0.0.1', 'admin.test');
    const forms: Record<string, string> = {
      // An empty form: no body for the API to refuse as not JSON.
      '/pause': `<form method="post" action="${admin}/admin/api/queue/pause"></form>`,
      // A text/plain form whose one field reads as a CSV line: "forged@example.com,manual,x=".
      '/import': `<form method="post" enctype="text/plain" action="${admin}/admin/api/suppressions/import"><input name="forged@example.com,manual,x" value=""></form>`,
    };
    const hostile = await listen((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html>${forms[req.url ?? ''] ?? ''}<script>document.forms[0].submit()</script>`);
    });
    const browser = await launch({
      ...BASIC,
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP admin.test 127.0.0.1, MAP evil.test 127.0.0.1'],
    });
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await page.goto(`${admin}/admin`);
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();
      for (const [form, api] of [
        ['/pause', '/admin/api/queue/pause'],
        ['/import', '/admin/api/suppressions/import'],
      ] as const) {
        const answered = page.waitForResponse((res) => res.url() === admin + api && res.status() !== 401);
        await page.goto(hostile.replace('127.0.0.1', 'evil.test') + form);
        const res = await answered;
        expect(res.status(), form).toBe(403);
        expect(await res.json(), form).toMatchObject({ error: { code: 'ADMIN_CROSS_SITE' } });
        expect((await res.request().allHeaders())['sec-fetch-site'], form).toBeUndefined();
      }
      expect(await redis.exists(keys.sendingHold)).toBe(0);
      expect(await store.get('forged@example.com')).toBeNull();
    } finally {
      await browser.close();
    }
  });
});
