import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const queueOne = (gw: TestGateway) => queueMessage(gw.smtpPort);

// SES answers that are neither a clean success nor a clean refusal.
describe('SES answers at the edges', () => {
  let gw: TestGateway;
  let queue: Queue;
  beforeAll(async () => {
    gw = await startGateway({ SES_REQUEST_TIMEOUT: '700ms', SEND_RETRY_BASE: '50ms' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
  });
  beforeEach(() => gw.ses.reset());

  const retries = (queueId: string) => gw.logs.filter((l) => l.msg === 'ses.retry' && l.queueId === queueId);

  it('abandons a call SES does not answer within SES_REQUEST_TIMEOUT and retries it', async () => {
    gw.ses.latencyMs = 5000;
    const queueId = await queueOne(gw);
    await waitFor(() => retries(queueId).length > 0, { what: 'the first call to be abandoned' });
    expect(retries(queueId)[0]).toMatchObject({ errorClass: 'transient' });
    gw.ses.latencyMs = 0;
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', { timeoutMs: 15_000 });
    expect(gw.ses.sends.length).toBeGreaterThanOrEqual(1);
  });

  it('retries a refusal of the credentials (expired token) instead of failing the message', async () => {
    gw.ses.failNext(
      { status: 403, type: 'ExpiredTokenException', message: 'The security token is expired' },
      2,
    );
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', { timeoutMs: 15_000 });
    expect(gw.ses.calls).toBe(3);
    expect(retries(queueId)).toHaveLength(2);
  });

  it('counts a success without a MessageId as sent, and never sends the message again', async () => {
    gw.ses.failNext({ status: 200, type: '', message: 'accepted' }, 1);
    const queueId = await queueOne(gw);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
    expect(gw.ses.calls).toBe(1);
    expect(gw.logs.find((l) => l.msg === 'ses.sent' && l.queueId === queueId)).toMatchObject({
      sesMessageId: 'unknown',
    });
  });
});
