import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import type { PrivateRedis } from '../helpers/redis.js';
import { startPrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };

describe('Redis outages at intake', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({ REDIS_URL: redis.url, SMTP_INTAKE_TIMEOUT: '1s' });
    admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin.disconnect();
    await gw.stop();
    await redis.stop();
  });

  it('answers 451 4.3.0 promptly while Redis is down, and accepts again once it is back', async () => {
    await redis.kill();
    const startedAt = Date.now();
    const refused = await sendMail(gw.smtpPort, message);
    // The first step that needs Redis is the suppression check at RCPT.
    expect(refused.rcpt[0]?.code).toBe(451);
    expect(refused.rcpt[0]?.text).toBe('4.3.0 Temporary failure checking the recipient, try again later');
    expect(Date.now() - startedAt).toBeLessThan(3000);

    await redis.start();
    await waitFor(async () => (await sendMail(gw.smtpPort, message)).data?.code === 250, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'intake to accept again',
    });
    await waitFor(() => gw.ses.sends.length >= 1, { timeoutMs: 15_000, what: 'delivery after recovery' });
  });

  it('answers 451 when Redis stalls past SMTP_INTAKE_TIMEOUT and leaves nothing half-written', async () => {
    await waitFor(async () => (await admin.ping().catch(() => '')) === 'PONG');
    const before = await admin.keys(`${gw.config.REDIS_PREFIX}:raw:*`);
    await admin.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    const startedAt = Date.now();
    const refused = await sendMail(gw.smtpPort, message);
    expect(refused.data?.code).toBe(451);
    expect(Date.now() - startedAt).toBeLessThan(2400);
    // Once Redis runs the delayed writes, the clean-up that followed them removes the bytes again.
    // Compared by name: the earlier test's message may finish (and lose its bytes) meanwhile.
    await waitFor(
      async () => (await admin.keys(`${gw.config.REDIS_PREFIX}:raw:*`)).every((key) => before.includes(key)),
      {
        timeoutMs: 8000,
        what: 'the half-written message to be removed',
      },
    );
    const waiting = await admin.zcard(`${gw.config.REDIS_PREFIX}:outbound:wait`);
    const waitList = await admin.llen(`${gw.config.REDIS_PREFIX}:outbound:wait`).catch(() => 0);
    expect(waiting + waitList).toBe(0);
  });
});
