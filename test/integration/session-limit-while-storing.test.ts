// SMTP_MAX_SESSION_TIME cuts off clients that trickle bytes forever, but a message that has fully
// arrived and is being written to Redis is answered first. A 421 at that point would leave the
// client resending a message that was queued anyway: a duplicate for every recipient.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { simpleMessage, SmtpClient } from '../helpers/smtp-client.js';

describe('session time limit while a message is being queued', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({
      REDIS_URL: redis.url,
      ROLES: 'smtp',
      SMTP_MAX_SESSION_TIME: '1s',
      SMTP_INTAKE_TIMEOUT: '6s',
    });
    admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin.disconnect();
    await gw.stop();
    await redis.stop();
  });

  it('answers the queued message with 250 even when the limit passes while Redis is slow', async () => {
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    // Redis holds every write for 2.5 s: the session passes its 1 s limit while the message waits.
    await admin.call('CLIENT', 'PAUSE', '2500', 'WRITE');
    const reply = await client.command(`${simpleMessage()}\r\n.`);
    expect(reply.code).toBe(250);
    const queued =
      (await admin.llen(`${gw.config.REDIS_PREFIX}:outbound:wait`)) +
      (await admin.zcard(`${gw.config.REDIS_PREFIX}:outbound:prioritized`));
    expect(queued).toBe(1);
    // The limit still applies once the message is answered.
    const next = await client.read(5000);
    expect(next.code).toBe(421);
    expect(next.text).toBe('4.4.2 Session time limit reached, closing');
  });
});
