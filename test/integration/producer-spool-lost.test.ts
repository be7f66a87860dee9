// A large message is spooled under its own key while it arrives and renamed into place at the end.
// If that key is gone by then (a failover to a replica that never had it, an eviction), or holds
// less than the message (Redis lost its first part and an APPEND made it anew), the client must get
// a 451 and no job may stay behind: a 250 for a job with no bytes, or part of them, is a lost message.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer } from '../../src/queue/producer.js';
import type { SendJobData } from '../../src/queue/job.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('spool-lost');
const keys = createKeys(prefix);
let redis: Redis;
let queue: Queue<SendJobData>;

function jobData(queueId: string, size = 10): SendJobData {
  return {
    queueId,
    from: 'app@example.com',
    recipients: ['rcpt@example.net'],
    size,
    messageId: 'm@example.com',
    tags: [],
    clientIp: '127.0.0.1',
    helo: 'test',
    receivedAt: Date.now(),
  };
}

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  queue = new Queue<SendJobData>(OUTBOUND_QUEUE, { connection: redis, prefix: keys.bullPrefix });
});

afterAll(async () => {
  await queue.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('producer, spooled bytes', () => {
  it('queues a spooled message under its raw key with a TTL', async () => {
    const producer = createProducer({ queue, redis, keys, rawTtlMs: 60_000, timeoutMs: 2000 });
    await redis.set(keys.spool('Q1'), 'bytes');
    await producer.enqueueSpooled(jobData('Q1', 5), keys.spool('Q1'));
    expect(await redis.get(keys.raw('Q1'))).toBe('bytes');
    expect(await redis.pttl(keys.raw('Q1'))).toBeGreaterThan(0);
    expect(await queue.getJob('Q1')).toBeDefined();
  });

  it('refuses with QUEUE_UNAVAILABLE and leaves no job when the spool key is gone', async () => {
    const producer = createProducer({ queue, redis, keys, rawTtlMs: 60_000, timeoutMs: 2000 });
    await expect(producer.enqueueSpooled(jobData('Q2'), keys.spool('Q2'))).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
    });
    expect(await queue.getJob('Q2')).toBeUndefined();
    expect(await redis.exists(keys.raw('Q2'))).toBe(0);
  });

  it('refuses a spooled message that holds fewer bytes than arrived, keeping neither job nor bytes', async () => {
    const producer = createProducer({ queue, redis, keys, rawTtlMs: 60_000, timeoutMs: 2000 });
    // Only the tail an APPEND wrote after Redis lost the key.
    await redis.set(keys.spool('Q3'), 'tail');
    await expect(producer.enqueueSpooled(jobData('Q3', 5000), keys.spool('Q3'))).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      message: expect.stringMatching(/4 of its 5000 bytes/),
    });
    expect(await queue.getJob('Q3')).toBeUndefined();
    expect(await redis.exists(keys.raw('Q3'), keys.spool('Q3'))).toBe(0);
  });
});
