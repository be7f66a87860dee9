// A 4xx that carries no SES error type (an HTML page from a proxy or a wrong endpoint path, a body
// without one) is not SES's verdict on the message: it is retried, not failed, through the real SDK.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const NOT_FOUND_PAGE =
  '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>';

describe('SES answers the SDK cannot read as SES errors', () => {
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

  const retries = (queueId: string) => gw.logs.filter((l) => l.msg === 'ses.retry' && l.queueId === queueId);
  const settled = (queueId: string) =>
    waitFor(
      async () => {
        const state = await queue.getJobState(queueId);
        return state === 'completed' || state === 'failed' ? state : undefined;
      },
      { what: `job ${queueId} to complete or fail` },
    );

  it('retries an HTML 404 page (a wrong endpoint path) instead of failing the message', async () => {
    gw.ses.failNext({ status: 404, type: '', message: '', html: NOT_FOUND_PAGE }, 2);
    const queueId = await queueMessage(gw.smtpPort);
    expect(await settled(queueId)).toBe('completed');
    expect(gw.ses.calls).toBe(3);
    expect(gw.ses.sends).toHaveLength(1);
    expect(retries(queueId)).toHaveLength(2);
    expect(retries(queueId)[0]).toMatchObject({ errorClass: 'transient' });
    expect(String(retries(queueId)[0]!.error)).toContain('(HTTP 404)');
  });

  it('retries a 404 without an SES error type ("Unknown") instead of failing the message', async () => {
    gw.ses.failNext({ status: 404, type: '', message: '' }, 1);
    const queueId = await queueMessage(gw.smtpPort);
    expect(await settled(queueId)).toBe('completed');
    expect(gw.ses.calls).toBe(2);
    expect(retries(queueId)[0]).toMatchObject({ errorClass: 'transient' });
    expect(String(retries(queueId)[0]!.error)).toContain('Unknown (HTTP 404)');
  });

  it('still fails at once a 4xx that SES names, even one the gateway does not know', async () => {
    gw.ses.failNext({ status: 400, type: 'SomethingNew', message: 'a new verdict' }, 1);
    const queueId = await queueMessage(gw.smtpPort);
    expect(await settled(queueId)).toBe('failed');
    expect((await queue.getJob(queueId))?.failedReason).toBe(
      'SES_PERMANENT: SomethingNew (HTTP 400): a new verdict',
    );
    expect(gw.ses.calls).toBe(1);
  });
});
