import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { runCli } from '../helpers/cli-run.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('ses-relay queue retry-failed after a message outlived its queue lifetime (a real process)', () => {
  const prefix = uniquePrefix('cli-retry-lifetime');
  const keys = createKeys(prefix);
  // A short lifetime: a missing permission (SES 403, retried as transient) fails the message at
  // QUEUE_MAX_AGE, as it does after 3 days by default. A failed message's bytes are kept 1 minute.
  const settings = {
    QUEUE_MAX_AGE: '2s',
    FAILED_JOB_RETENTION: '1m',
    SEND_RETRY_BASE: '50ms',
    SEND_RETRY_MAX: '200ms',
  };
  const env = { ...settings, REDIS_PREFIX: prefix };
  const redis = new Redis(TEST_REDIS_URL);
  const queue = new Queue(OUTBOUND_QUEUE, { connection: redis, prefix });
  let ses: FakeSes;
  let gw: TestGateway | undefined;

  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await gw?.stop();
    await queue.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await ses.stop();
  });

  it('gives the message a new lifetime and keeps its bytes for it, so it goes out once the cause is fixed', async () => {
    gw = await startGateway(settings, { ses, prefix, cleanup: false });
    ses.onSend(() => ({ status: 403, type: 'AccessDeniedException', message: 'not authorized' }));
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['late@example.net'],
      message: simpleMessage({ to: 'late@example.net' }),
    });
    expect(result.data?.code).toBe(250);
    const queueId = /queued as (\S+)/.exec(result.data?.text ?? '')?.[1] ?? '';
    await waitFor(async () => (await queue.getFailedCount()) === 1, { what: 'the message to fail' });
    expect((await queue.getFailed())[0]?.failedReason).toContain('QUEUE_LIFETIME_EXCEEDED');
    // No worker from here until the retry is done: what the retry left is read before anything runs.
    await gw.stop();
    gw = undefined;
    await waitFor(async () => Math.abs((await redis.pttl(keys.raw(queueId))) - 30_000) <= 30_000, {
      what: 'the failed message bytes to be given the failed-job retention',
    });

    const retried = await runCli(['queue', 'retry-failed'], env);
    expect(retried).toMatchObject({ code: 0, stdout: 'retried 1 failed message\n' });
    // QUEUE_MAX_AGE + FAILED_JOB_RETENTION again, as at intake.
    expect(await redis.pttl(keys.raw(queueId))).toBeGreaterThan(60_000);

    ses.reset();
    gw = await startGateway(settings, { ses, prefix, cleanup: false });
    await waitFor(async () => ses.sends.length === 1 || (await queue.getFailedCount()) === 1, {
      what: 'the retried message to be sent or to fail again',
    });
    expect(ses.sends.map((s) => s.to)).toEqual([['late@example.net']]);
    await waitFor(async () => (await queue.getCompletedCount()) === 1, { what: 'the job to complete' });
  });

  it('does the same through the admin API', async () => {
    const token = 'retry-lifetime-admin-token-0123456789';
    gw = await startGateway(settings, { ses, prefix, cleanup: false });
    ses.onSend(() => ({ status: 403, type: 'AccessDeniedException', message: 'not authorized' }));
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['admin@example.net'],
      message: simpleMessage({ to: 'admin@example.net' }),
    });
    const queueId = /queued as (\S+)/.exec(result.data?.text ?? '')?.[1] ?? '';
    await waitFor(async () => (await queue.getFailedCount()) === 1, { what: 'the message to fail' });
    await gw.stop();
    // The HTTP role alone: nothing sends until the retry's effects are read.
    gw = await startGateway(
      { ...settings, ROLES: 'http', ADMIN_TOKEN: token },
      { ses, prefix, cleanup: false },
    );
    await waitFor(async () => (await redis.pttl(keys.raw(queueId))) <= 60_000, {
      what: 'the failed message bytes to be given the failed-job retention',
    });
    const response = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/queue/retry-failed`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await response.json()).toEqual({ retried: 1, skipped: 0 });
    expect(await redis.pttl(keys.raw(queueId))).toBeGreaterThan(60_000);
    const job = await queue.getJob(queueId);
    expect(job?.data.retriedAt).toBeGreaterThan(Date.now() - 30_000);
  });

  it("does the same from the queue dashboard, one job or all failed ones, in the board's answer shape", async () => {
    const basic = `Basic ${Buffer.from('ops:retry-lifetime-board-password').toString('base64')}`;
    gw = await startGateway(settings, { ses, prefix, cleanup: false });
    ses.onSend(() => ({ status: 403, type: 'AccessDeniedException', message: 'not authorized' }));
    const ids: string[] = [];
    for (const to of ['one@example.net', 'two@example.net']) {
      const result = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: [to],
        message: simpleMessage({ to }),
      });
      ids.push(/queued as (\S+)/.exec(result.data?.text ?? '')?.[1] ?? '');
    }
    // The earlier tests' messages are in the queue too: these two are watched by id.
    const failed = async () =>
      (await Promise.all(ids.map((id) => queue.getJobState(id)))).every((state) => state === 'failed');
    await waitFor(failed, { what: 'both messages to fail' });
    await gw.stop();
    for (const job of await queue.getJobs(['failed', 'waiting', 'delayed'])) {
      if (job.id && !ids.includes(job.id)) await job.remove();
    }
    gw = await startGateway(
      { ...settings, ROLES: 'http', ADMIN_USER: 'ops', ADMIN_PASSWORD: 'retry-lifetime-board-password' },
      { ses, prefix, cleanup: false },
    );
    const board = `http://127.0.0.1:${gw.httpPort}/admin/queues/api/queues/${OUTBOUND_QUEUE}`;
    const one = await fetch(`${board}/${ids[0]}/retry`, { method: 'PUT', headers: { authorization: basic } });
    expect(one.status).toBe(204);
    const all = await fetch(`${board}/retry/failed`, { method: 'PUT', headers: { authorization: basic } });
    expect([all.status, await all.json()]).toEqual([200, { retried: 1, skipped: 0 }]);
    for (const id of ids) {
      const job = await queue.getJob(id);
      expect([id, job?.attemptsMade, (job?.data.retriedAt ?? 0) > Date.now() - 30_000]).toEqual([
        id,
        0,
        true,
      ]);
      expect(await redis.pttl(keys.raw(id))).toBeGreaterThan(60_000);
    }
  });
});
