// A message whose worker dies mid-job more than WORKER_MAX_STALLED_COUNT times (it gets its worker
// OOM-killed, a crash loop) is failed for good by BullMQ's stalled check. That final failure takes
// the same path as any other: a queue.failed line and one DSN to the sender.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('a message failed by the stalled limit', () => {
  const prefix = uniquePrefix('stalled-dsn');
  const keys = createKeys(prefix);
  let ses: FakeSes;
  let redis: Redis;
  let queue: Queue;
  const gateways: TestGateway[] = [];
  const workers: Worker[] = [];

  beforeAll(async () => {
    ses = await startFakeSes();
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue(OUTBOUND_QUEUE, { connection: redis, prefix: keys.bullPrefix });
  });
  afterAll(async () => {
    for (const w of workers) await w.close(true).catch(() => undefined);
    for (const gw of gateways.reverse()) await gw.stop();
    await queue.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await ses.stop();
  });

  /** A worker that takes the job and dies at once (never renews its 1 s lock). */
  async function takeAndDie(): Promise<void> {
    const doomed = new Worker(OUTBOUND_QUEUE, undefined, {
      connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
      prefix: keys.bullPrefix,
      autorun: false,
      lockDuration: 1000,
    });
    workers.push(doomed);
    const job = await waitFor(() => doomed.getNextJob(`doomed-${Math.random()}`), { what: 'the job taken' });
    expect(job).toBeDefined();
  }

  it('sends the sender a DSN and logs queue.failed', { timeout: 30_000 }, async () => {
    const env = { DSN_FROM: 'mailer-daemon@example.com', WORKER_MAX_STALLED_COUNT: '1' };
    const intake = await startGateway({ ...env, ROLES: 'smtp' }, { ses, prefix, cleanup: false });
    gateways.push(intake);
    const queueId = await queueMessage(intake.smtpPort, {
      from: 'app@example.com',
      to: ['crash@example.net'],
    });

    // First crash: another worker's stalled check puts the job back.
    await takeAndDie();
    const checker = new Worker(OUTBOUND_QUEUE, undefined, {
      connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
      prefix: keys.bullPrefix,
      autorun: false,
      stalledInterval: 300,
      maxStalledCount: 1,
    });
    workers.push(checker);
    void checker.startStalledCheckTimer();
    await waitFor(async () => (await queue.getJobState(queueId)) === 'waiting', { what: 'stall 1' });
    await checker.close();
    // Second crash; then the gateway's worker starts and its stalled check finds the job again.
    await takeAndDie();
    const worker = await startGateway(
      { ...env, ROLES: 'worker', WORKER_STALLED_INTERVAL: '1s', WORKER_LOCK_DURATION: '5s' },
      { ses, prefix, cleanup: false },
    );
    gateways.push(worker);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'failed', { what: 'the job to fail' });
    await waitFor(() => ses.sends.some((s) => s.to.includes('app@example.com')), {
      what: 'a DSN to the sender',
    });
    expect(worker.logs.map((l) => l.msg)).toContain('queue.failed');
    expect(ses.sends.filter((s) => s.to.includes('app@example.com'))).toHaveLength(1);
  });
});
