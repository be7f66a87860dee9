// Which failures tell the sender: one DSN per message while its failure is kept, however often an
// operator retries it into the same failure; none for a message whose bytes were gone when its job
// ran (a delivered message rerun), since nothing then says which recipients did not get it.
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { DSN_FROM, NOT_VERIFIED } from './chunk-fixture.js';

const ADMIN_TOKEN = 'dsn-once-admin-token';
const SENDER = 'app@example.com';

describe('DSNs of a message that fails more than once', () => {
  let gw: TestGateway | undefined;
  let queue: Queue | undefined;
  afterEach(async () => {
    await queue?.close();
    await gw?.stop();
    queue = undefined;
    gw = undefined;
  });

  async function start(): Promise<{ gw: TestGateway; queue: Queue }> {
    gw = await startGateway({ DSN_FROM, ADMIN_TOKEN, SEND_MAX_ATTEMPTS: '1' });
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    // SES refuses the message for good whenever it goes to refused@; DSNs and the rest go out.
    gw.ses.onSend((send) => (send.to.includes('refused@example.net') ? NOT_VERIFIED : undefined));
    return { gw, queue };
  }

  async function submit(gw: TestGateway, to: string): Promise<string> {
    const result = await sendMail(gw.smtpPort, { from: SENDER, to: [to], message: simpleMessage() });
    expect(result.data?.code).toBe(250);
    return /queued as ([A-Z0-9]+)/.exec(result.data!.text)![1]!;
  }

  const dsns = (gw: TestGateway) => gw.ses.sends.filter((send) => send.from === DSN_FROM);
  const skipped = (gw: TestGateway, queueId: string) =>
    gw.logs.filter((line) => line.msg === 'dsn.skipped' && line.queueId === queueId);

  it('sends one DSN when an operator retries the failed message and it fails again', async () => {
    const { gw, queue } = await start();
    const queueId = await submit(gw, 'refused@example.net');
    await waitFor(() => dsns(gw).length === 1, { what: 'the first DSN' });

    const retried = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/queue/retry-failed`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await retried.json()).toEqual({ retried: 1, skipped: 0 });
    await waitFor(() => skipped(gw, queueId).length === 1, { what: 'the second failure to skip its DSN' });
    expect(skipped(gw, queueId)[0]).toMatchObject({ skip: 'a DSN for this message was already sent' });
    expect(await queue.getJobState(queueId)).toBe('failed');
    expect(dsns(gw)).toHaveLength(1);
    expect(dsns(gw)[0]!.to).toEqual([SENDER]);
    // Remembered for as long as the failed job is kept.
    const ttl = await gw.redis.pttl(createKeys(gw.config.REDIS_PREFIX).dsnSent(queueId));
    expect(ttl).toBeGreaterThan(gw.config.FAILED_JOB_RETENTION - 60_000);
    expect(ttl).toBeLessThanOrEqual(gw.config.FAILED_JOB_RETENTION);
  });

  it('sends no DSN when a delivered message is rerun and finds its bytes gone', async () => {
    const { gw, queue } = await start();
    const queueId = await submit(gw, 'reader@example.net');
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', { what: 'delivery' });
    const raw = createKeys(gw.config.REDIS_PREFIX).raw(queueId);
    await waitFor(async () => (await gw.redis.exists(raw)) === 0, { what: 'the bytes to be dropped' });

    // What the dashboard's "Retry" did on a completed job before it was refused there.
    await (await queue.getJob(queueId))!.retry('completed');
    await waitFor(() => skipped(gw, queueId).length === 1, { what: 'the DSN to be skipped' });
    const job = (await queue.getJob(queueId))!;
    expect(job.failedReason).toMatch(/^RAW_MESSAGE_MISSING/);
    expect(skipped(gw, queueId)[0]).toMatchObject({
      skip: 'message bytes gone: which recipients got it is unknown',
    });
    expect(dsns(gw)).toEqual([]);
    expect(gw.ses.sends).toHaveLength(1);
  });
});
