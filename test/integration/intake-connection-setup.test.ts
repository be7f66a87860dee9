// The intake connection's set-up. The SMTP listener waits (a bounded time) for the connection
// before it listens, so its first clients are not refused only because the connection is new. The
// outbound queue shares the connection: a drop while the queue is still being set up must not leave
// it refusing every later message (BullMQ keeps the outcome of its set-up for good, so the set-up
// must not depend on a command that a drop can fail).
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisFactory, readyOrAfter } from '../../src/shared/redis.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const logger = createLogger('silent');

describe('intake connection set-up', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('takes jobs again once a connection that dropped during its set-up is back', async () => {
    const connect = createRedisFactory({
      url: redis.url,
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger,
    });
    const intake = connect('intake', 'intake');
    await waitFor(() => intake.status === 'ready', { what: 'the intake connection' });
    const queue = createOutboundQueue({
      connection: intake,
      keys: createKeys('setup-drop'),
      retry: { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 },
      completedRetentionMs: 60_000,
      failedRetentionMs: 60_000,
      logger,
    });
    // The drop comes before anything the queue sends during its set-up is answered.
    (intake as unknown as { stream: Socket }).stream.destroy();

    const added = await waitFor(
      () =>
        queue.add('send', { queueId: 'q1' } as never, { jobId: 'q1' }).then(
          (job) => job.id,
          () => undefined,
        ),
      { timeoutMs: 5000, intervalMs: 100, what: 'the queue to take a job' },
    );
    expect(added).toBe('q1');
    await queue.close();
    intake.disconnect();
  });

  it('waits for a new connection to be ready, and gives up after its bound when Redis does not answer', async () => {
    const connect = createRedisFactory({
      url: redis.url,
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger,
    });
    const fresh = connect('intake', 'intake');
    expect(fresh.status).not.toBe('ready');
    expect(await readyOrAfter(fresh, 5000)).toBe(true);
    expect(fresh.status).toBe('ready');
    fresh.disconnect();

    const nowhere = createRedisFactory({
      url: `redis://127.0.0.1:${await freePort()}`,
      intakeTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      logger,
    })('intake', 'intake');
    const startedAt = Date.now();
    expect(await readyOrAfter(nowhere, 300)).toBe(false);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    nowhere.disconnect();
  });
});
