// The admin page in a real browser (Debian's Chromium driven by playwright-core) against real Redis:
// the chart renders, a suppression is found, removed and added, a message's timeline shows, and
// token sign-in works. Skipped, with the reason printed, only when Chromium cannot be launched.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminRouter, type AdminAuthOptions } from '../../src/admin/index.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { createFeedbackKeys } from '../../src/webhook/keys.js';
import { utcDay } from '../../src/webhook/stats.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
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

/** A fresh profile per browser: `--user-data-dir` goes through launchPersistentContext. */
async function launch(options: { httpCredentials?: { username: string; password: string } } = {}) {
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
const queue = createOutboundQueue({
  connection: redis,
  keys,
  retry: { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 },
  completedRetentionMs: 60_000,
  failedRetentionMs: 60_000,
  logger,
});
const store = createSuppressionStore({ redis, prefix });
const trace = createTraceStore(redis, prefix, 60_000);
const servers: http.Server[] = [];

async function serve(auth: AdminAuthOptions): Promise<string> {
  const holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
  const admin = createAdminRouter({ redis, prefix, queue, holds, suppression: store, trace, logger, auth });
  const app = express();
  app.use(admin.router);
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

// At file level, so the connections close even when the browser tests are skipped.
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await queue.close();
  await deleteKeys(redis, prefix);
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

      // The dashboard link leads to Bull Board, which lists the queue with the same credentials.
      await page.getByRole('link', { name: 'Queue dashboard' }).click();
      await page.waitForURL(/\/admin\/queues\/$/);
      await page.getByText('outbound').first().waitFor();
    } finally {
      await browser.close();
    }
  });

  it('asks for the token once and keeps it in sessionStorage (token auth)', async () => {
    const origin = await serve({ token: TOKEN });
    const browser = await launch();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const errors = watchErrors(page);
      await page.goto(`${origin}/admin`);
      await page.locator('#token').waitFor();
      await page.locator('#token').fill(TOKEN);
      await page.locator('#token-form button[type=submit]').click();
      await page.locator('#chart svg rect.bar-sent').nth(13).waitFor();
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
      // The 401 the page itself came with is the only error the browser may log.
      expect(errors.filter((e) => !/401/.test(e))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
