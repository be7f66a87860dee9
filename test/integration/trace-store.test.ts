// The trace store batches the events of one event-loop turn into one script call, and every event
// still lands in its message's timeline, in order, findable by every id.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

describe('trace store batching', () => {
  const prefix = uniquePrefix('trace-store');
  let redis: Redis;
  let scriptCalls = 0;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    const evalsha = redis.evalsha.bind(redis);
    redis.evalsha = ((...args: Parameters<typeof evalsha>) => {
      scriptCalls++;
      return evalsha(...args);
    }) as typeof redis.evalsha;
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('writes the events of one turn in as few calls as the batch size allows, all of them in order', async () => {
    const trace = createTraceStore(redis, prefix, 60_000);
    await trace.record('warm-up', { type: 'failed', at: 1, reason: 'loads the script' });
    scriptCalls = 0;
    const messages = Array.from({ length: 150 }, (_, i) => `Q${i}`);
    const writes = messages.flatMap((queueId, i) => [
      trace.record(queueId, {
        type: 'accepted',
        at: 1,
        clientIp: '127.0.0.1',
        from: 'app@example.com',
        recipients: ['a@example.net'],
        size: 100,
        messageId: `<m${i}@example.com>`,
      }),
      trace.record(queueId, {
        type: 'ses-call',
        at: 2,
        outcome: 'sent',
        sesMessageId: `ses-${i}`,
        recipients: 1,
        chunk: 0,
      }),
      trace.record(queueId, { type: 'failed', at: 3, reason: 'test' }),
    ]);
    await Promise.all(writes);
    // 450 events, at most 200 per call.
    expect(scriptCalls).toBe(3);
    for (const [i, queueId] of messages.entries()) {
      for (const id of [queueId, `m${i}@example.com`, `ses-${i}`]) {
        const timeline = await trace.lookup(id);
        expect(timeline?.queueId).toBe(queueId);
        expect(timeline?.events.map((event) => event.type)).toEqual(['accepted', 'ses-call', 'failed']);
      }
    }
  });

  it('rejects every waiter of a batch Redis refused', async () => {
    const broken = new Redis(TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    broken.on('error', () => undefined);
    const trace = createTraceStore(broken, prefix, 60_000);
    const results = await Promise.allSettled([
      trace.record('X1', { type: 'failed', at: 1, reason: 'a' }),
      trace.record('X2', { type: 'failed', at: 1, reason: 'b' }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    broken.disconnect();
  });
});
