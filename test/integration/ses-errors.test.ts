import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const queueOne = (gw: TestGateway, to?: string[]) => queueMessage(gw.smtpPort, { to });

describe('SES failures after acceptance', () => {
  let gw: TestGateway;
  let queue: Queue;
  beforeAll(async () => {
    gw = await startGateway();
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
  });
  beforeEach(() => gw.ses.reset());

  it('retries transient errors (5xx) with backoff until SES accepts', async () => {
    gw.ses.failNext({ status: 503, type: 'ServiceUnavailable', message: 'try later' }, 2);
    const queueId = await queueOne(gw);
    await waitFor(() => gw.ses.sends.length === 1);
    expect(gw.ses.calls).toBe(3);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
    const job = await queue.getJob(queueId);
    expect(job?.attemptsMade).toBe(3);
    expect(gw.logs.filter((l) => l.msg === 'ses.retry' && l.queueId === queueId)).toHaveLength(2);
  });

  it('treats throttling as transient for now and sends after it', async () => {
    gw.ses.failNext(
      { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' },
      1,
    );
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
    expect(gw.ses.sends).toHaveLength(1);
  });

  it('fails the job at once on a permanent error and keeps the SES evidence', async () => {
    gw.ses.failNext({ status: 400, type: 'MessageRejected', message: 'Email address is not verified.' }, 1);
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'failed');
    const job = await queue.getJob(queueId);
    expect(job?.failedReason).toBe(
      'SES_PERMANENT: MessageRejected (HTTP 400): Email address is not verified.',
    );
    expect(job?.attemptsMade).toBe(1);
    expect(gw.ses.calls).toBe(1);
    // The bytes stay for inspection (and a manual retry) but carry the failed-job retention as TTL.
    const ttl = await gw.redis.pttl(`${gw.config.REDIS_PREFIX}:raw:${queueId}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(gw.config.FAILED_JOB_RETENTION);
  });

  it('never resends a chunk that SES already accepted when a later chunk fails', async () => {
    gw.ses.onSend((_send, index) =>
      index === 1 ? { status: 500, type: 'InternalFailure', message: 'boom' } : undefined,
    );
    const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@example.net`);
    const queueId = await queueOne(gw, recipients);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
    expect(gw.ses.calls).toBe(4);
    const delivered = gw.ses.sends.flatMap((s) => s.to).sort();
    expect(delivered).toEqual([...recipients].sort());
    const job = await queue.getJob(queueId);
    expect((job?.returnvalue as { sesMessageIds: string[] }).sesMessageIds).toHaveLength(3);
  });
});
