import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFeedbackKeys } from '../../src/webhook/keys.js';
import { readDailyStats } from '../../src/webhook/stats.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../helpers/redis.js';
import {
  createSnsSigner,
  sesFixture,
  startWebhookServer,
  type SnsSigner,
  type WebhookServer,
} from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

function bounce(type: string, subType: string, address: string) {
  const event = sesFixture('bounce-permanent') as { bounce: Record<string, unknown> };
  return {
    ...event,
    bounce: {
      ...event.bounce,
      bounceType: type,
      bounceSubType: subType,
      bouncedRecipients: [{ emailAddress: address }],
    },
  };
}

describe('SNS webhook while Redis fails', () => {
  const prefix = uniquePrefix('webhook-outage');
  const keys = createFeedbackKeys(prefix);
  let redisServer: PrivateRedis;
  let redis: Redis;
  let signer: SnsSigner;
  let server: WebhookServer;

  const stats = async () => (await readDailyStats(redis, keys, Date.now(), Date.now()))[0]!.counts;
  const restartRedis = async () => {
    await redisServer.start();
    await waitFor(() => redis.status === 'ready', { what: 'client reconnected' });
  };

  beforeAll(async () => {
    // AOF with fsync on every write: a SIGKILL loses nothing that Redis acknowledged, like a
    // production Redis with persistence, so "fails after the actions were applied" is real.
    redisServer = await startPrivateRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    // Fail fast while Redis is down (no offline queue), reconnect quickly once it is back.
    redis = new Redis(redisServer.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    redis.on('error', () => undefined);
    await waitFor(() => redis.status === 'ready', { what: 'client connected' });
    signer = await createSnsSigner();
  });
  beforeEach(async () => {
    await server?.close();
    server = await startWebhookServer({ redis, prefix, signer });
  });
  afterAll(async () => {
    await server.close();
    redis.disconnect();
    await redisServer.stop();
  });

  it('answers 503 while Redis is down, then applies the redelivery once Redis is back', async () => {
    await redisServer.kill();
    const event = sesFixture('bounce-permanent') as { bounce: { feedbackId: string } };
    const message = signer.notification(event);
    const down = await server.post(message);
    expect(down).toMatchObject({ status: 503, json: { error: { code: 'FEEDBACK_UNAVAILABLE' } } });
    expect(server.logs.find((line) => line.msg === 'sns.refused')).toMatchObject({
      level: 'error',
      code: 'FEEDBACK_UNAVAILABLE',
    });

    await restartRedis();
    expect(await server.post(message)).toEqual({ status: 200, json: { status: 'applied' } });
    expect(server.sink.addresses()).toContain('jane@example.com');
    // Applied once per SES event, whatever SNS message carries it.
    expect(await redis.exists(keys.done(`bounce:${event.bounce.feedbackId}`))).toBe(1);
    expect((await stats()).bounced_hard).toBe(1);
  });

  it('does not count a soft bounce twice when Redis dies after the store counted it', async () => {
    let killed = false;
    server.sink.during = async (method) => {
      if (method !== 'recordSoftBounce' || killed) return;
      killed = true;
      await redisServer.kill();
    };
    const message = signer.notification(bounce('Transient', 'MailboxFull', 'full@example.com'));
    expect((await server.post(message)).status).toBe(503);

    await restartRedis();
    expect(await server.post(message)).toEqual({ status: 200, json: { status: 'applied' } });
    expect(server.sink.softBounces.map((call) => call.address)).toEqual(['full@example.com']);
    expect((await stats()).bounced_soft).toBe(1);
  });

  it('repeats a suppression (an upsert) but counts the bounce once when Redis dies after it', async () => {
    let killed = false;
    server.sink.during = async (method) => {
      if (method !== 'suppress' || killed) return;
      killed = true;
      await redisServer.kill();
    };
    const before = (await stats()).bounced_hard ?? 0;
    const message = signer.notification(bounce('Permanent', 'NoEmail', 'gone@example.com'));
    expect((await server.post(message)).status).toBe(503);

    await restartRedis();
    expect((await server.post(message)).status).toBe(200);
    expect(server.sink.addresses()).toEqual(['gone@example.com', 'gone@example.com']);
    expect((await stats()).bounced_hard).toBe(before + 1);
  });
});
