import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDailyQuota } from '../../src/queue/quota.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import type { RecordedSend } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { DSN_FROM, NOT_VERIFIED, rcpts, UNAVAILABLE } from './chunk-fixture.js';

function finalRecipients(dsn: RecordedSend): string[] {
  return [...dsn.raw.toString('latin1').matchAll(/^Final-Recipient: rfc822; (.*)$/gm)].map((m) =>
    m[1]!.trim(),
  );
}

describe('a chunk that SES refuses for good', () => {
  let gw: TestGateway;
  let queue: Queue;
  const messageSends = () => gw.ses.sends.filter((s) => s.from !== DSN_FROM);
  const queueOne = async (to: string[]) => {
    const result = await sendMail(gw.smtpPort, { from: 'app@example.com', to, message: simpleMessage() });
    expect(result.data?.code).toBe(250);
    return /queued as ([A-Z0-9]+)/.exec(result.data!.text)![1]!;
  };
  beforeAll(async () => {
    gw = await startGateway({ DSN_FROM, SEND_MAX_ATTEMPTS: '3' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
  });
  beforeEach(() => gw.ses.reset());

  it('sends the later chunks, retries none it refused, and the DSN lists only its recipients', async () => {
    let thirdChunkCalls = 0;
    gw.ses.onSend((send) => {
      if (send.to[0] === 'r50@example.net') return NOT_VERIFIED;
      if (send.to[0] === 'r100@example.net' && thirdChunkCalls++ === 0) return UNAVAILABLE;
      return undefined;
    });
    const queueId = await queueOne(rcpts(0, 120));
    await waitFor(async () => (await queue.getJobState(queueId)) === 'failed');
    const job = await queue.getJob(queueId);
    expect(job?.failedReason).toBe(`SES_PERMANENT: MessageRejected (HTTP 400): ${NOT_VERIFIED.message}`);
    // The transient failure of the third chunk used an attempt; the refused chunk was not tried again.
    expect(job?.attemptsMade).toBe(2);
    expect(thirdChunkCalls).toBe(2);
    expect(gw.ses.calls - gw.ses.sends.filter((s) => s.from === DSN_FROM).length).toBe(4);
    expect(messageSends().flatMap((s) => s.to)).toEqual([...rcpts(0, 50), ...rcpts(100, 120)]);

    const dsn = await waitFor(() => gw.ses.sends.find((s) => s.from === DSN_FROM));
    expect(finalRecipients(dsn)).toEqual(rcpts(50, 100));
    expect(dsn.raw.toString('latin1')).toContain('Diagnostic-Code: X-SES; SES_PERMANENT: MessageRejected');
    // Only what SES accepted stays counted in the 24-hour quota: 70 recipients and the DSN's one.
    const quota = createDailyQuota(gw.redis, createKeys(gw.config.REDIS_PREFIX).dailyQuota);
    expect(await quota.sentLast24Hours()).toBe(71);

    // Once the cause is fixed, an operator's retry sends the refused chunk and nothing else.
    gw.ses.onSend(undefined);
    const sentBefore = messageSends().length;
    await job!.retry('failed');
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed');
    expect(
      messageSends()
        .slice(sentBefore)
        .flatMap((s) => s.to),
    ).toEqual(rcpts(50, 100));
  });

  it('names each refused chunk with its own SES answer when they differ', async () => {
    const otherRefusal = { status: 400, type: 'MessageRejected', message: 'Illegal address' };
    gw.ses.onSend((send) => {
      if (send.to[0] === 'r0@example.net') return NOT_VERIFIED;
      if (send.to[0] === 'r100@example.net') return otherRefusal;
      return undefined;
    });
    const queueId = await queueOne(rcpts(0, 150));
    await waitFor(async () => (await queue.getJobState(queueId)) === 'failed');
    const job = await queue.getJob(queueId);
    expect(job?.failedReason).toBe(
      `SES_PERMANENT: chunk 1 of 3: MessageRejected (HTTP 400): ${NOT_VERIFIED.message}; ` +
        'chunk 3 of 3: MessageRejected (HTTP 400): Illegal address',
    );
    expect(job?.attemptsMade).toBe(1);
    expect(messageSends().flatMap((s) => s.to)).toEqual(rcpts(50, 100));
    const dsn = await waitFor(() => gw.ses.sends.find((s) => s.from === DSN_FROM));
    expect(finalRecipients(dsn)).toEqual([...rcpts(0, 50), ...rcpts(100, 150)]);
  });
});
