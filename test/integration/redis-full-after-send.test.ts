// "A retry never resends a chunk SES already accepted" rests on the chunk's record being written
// after SES answers. Redis at maxmemory under `noeviction` refuses that write: the worker must keep
// writing it until Redis takes it, not fail the attempt (whose retry would find no record and send
// the chunk to SES a second time, so that every recipient gets the message twice).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('Redis reaches maxmemory while a chunk is at SES', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startPrivateRedis(['--maxmemory-policy', 'noeviction']);
    admin = new Redis(redis.url);
    gw = await startGateway({ REDIS_URL: redis.url, REDIS_MEMORY_HIGH_WATER: '0' }, { cleanup: false });
  });
  afterAll(async () => {
    await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
    admin.disconnect();
    await gw.stop();
    await redis.stop();
  });

  it('writes the record again until Redis takes it, and never sends the chunk again', async () => {
    gw.ses.latencyMs = 1500;
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['user@example.net'],
      message: simpleMessage({ subject: 'oom once' }),
    });
    expect(result.data?.code).toBe(250);
    const queueId = /queued as (\w+)/.exec(result.data?.text ?? '')?.[1];
    expect(queueId).toBeDefined();

    // The call is at SES; Redis fills up before SES answers.
    await waitFor(() => gw.ses.sendsReceived === 1, { what: 'the SES call' });
    await admin.config('SET', 'maxmemory', '1');
    await waitFor(() => gw.ses.calls === 1, { what: 'SES to answer' });
    // The writes after SES accepted the chunk (its trace event, then its record) are refused.
    await waitFor(
      () => gw.logs.some((line) => line.msg === 'trace.write_failed' && /OOM/.test(String(line.err))),
      { what: 'the writes after the SES answer to be refused' },
    );
    // Memory is available again (an operator raised maxmemory, or other data expired).
    await admin.config('SET', 'maxmemory', '0');
    gw.ses.latencyMs = 0;

    // Done with: its bytes are removed once the job has completed.
    await waitFor(async () => (await admin.exists(`${gw.config.REDIS_PREFIX}:raw:${queueId}`)) === 0, {
      timeoutMs: 15_000,
      what: 'the message to be done with',
    });
    const sends = gw.ses.sends.filter((send) => send.raw.toString('latin1').includes('Subject: oom once'));
    expect(sends.map((send) => `${send.messageId} to ${send.to.join(',')}`)).toHaveLength(1);
    expect(gw.ses.sendsReceived).toBe(1);
    const failed = gw.logs.find((line) => String(line.msg).startsWith('ses.record_failed'));
    expect(failed).toMatchObject({ queueId, chunk: 0, sesMessageId: sends[0]?.messageId });
    expect(gw.logs.some((line) => line.msg === 'ses.sent_recorded' && line.queueId === queueId)).toBe(true);
  });
});
