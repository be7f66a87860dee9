// A stop that begins while an SES call is in flight: the call completes, and what its outcome calls
// for once the job has ended (the DSN of a refusal) is done before the worker's Redis connections
// close, not cut off by them.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendJobData } from '../../src/queue/job.js';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('a stop while an SES call is in flight', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('queues the DSN of a refusal that arrives during the stop', async () => {
    const gw = await startGateway({ DSN_FROM: 'mailer-daemon@example.com' }, { ses });
    const queue = new Queue<SendJobData>(OUTBOUND_QUEUE, {
      connection: gw.redis,
      prefix: gw.config.REDIS_PREFIX,
    });
    try {
      ses.latencyMs = 500;
      ses.failNext({ status: 400, type: 'MessageRejected', message: 'Email address is not verified.' });
      const queueId = await queueMessage(gw.smtpPort, { from: 'app@example.com', to: ['u@example.net'] });
      await waitFor(() => ses.sendsReceived === 1, { what: 'the SES call to be in flight' });
      await gw.app.stop();
      expect(await queue.getJobState(queueId)).toBe('failed');
      const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
      const dsns = jobs.filter((job) => job.data.kind === 'dsn');
      expect(dsns.map((job) => job.data.recipients)).toEqual([['app@example.com']]);
      expect(gw.logs.map((line) => line.msg)).not.toContain('dsn.failed');
    } finally {
      ses.reset();
      await queue.close();
      await gw.stop();
    }
  });
});
