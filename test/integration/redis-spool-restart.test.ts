// A large message is spooled to Redis while it arrives: SET of the prepared header section and first
// bytes, then one APPEND per further chunk. If Redis loses the spool key mid-message (a restart
// without persistence, a failover to a replica that had not received it yet), the next APPEND would
// make a new key holding only the rest of the message. The end of DATA must then answer 451, never
// 250 for a message whose header section and first part are gone.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPOOL_THRESHOLD_BYTES } from '../../src/smtp/data-spool.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const line = `${'x'.repeat(76)}\r\n`;

describe('Redis restarts while a large message is spooled', () => {
  let redis: PrivateRedis;
  let gw: TestGateway;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    gw = await startGateway({
      REDIS_URL: redis.url,
      SMTP_MAX_MESSAGE_BYTES: '3MB',
      SMTP_INTAKE_TIMEOUT: '2s',
    });
    admin = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin.disconnect();
    await gw.stop();
    await redis.stop();
  });

  it('answers 451 when the first part of the message was lost, and keeps nothing of it', async () => {
    const prefix = gw.config.REDIS_PREFIX;
    const header =
      'From: app@example.com\r\nTo: user@example.net\r\nSubject: big\r\n' +
      'Date: Mon, 2 Mar 2026 10:00:00 +0000\r\nMessage-ID: <spool-restart@example.com>\r\n\r\n';
    const first = header + line.repeat(Math.ceil((SPOOL_THRESHOLD_BYTES * 1.5) / line.length));
    const rest = line.repeat(2000);

    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    expect((await client.command('MAIL FROM:<app@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<user@example.net>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write(first);

    // Every byte written so far is in the spool key (smtp-server holds back at most a few bytes
    // while it looks for the terminating dot).
    await waitFor(
      async () => {
        const [key] = await admin.keys(`${prefix}:spool:*`);
        return key !== undefined && (await admin.strlen(key)) >= first.length - 8;
      },
      { what: 'the first part to be spooled' },
    );

    // Redis restarts without persistence between two chunks of the message.
    await redis.kill();
    await redis.start();
    await waitFor(
      async () => String(await admin.client('LIST').catch(() => '')).includes('name=ses-relay:intake'),
      { timeoutMs: 15_000, what: 'the intake connection to reconnect' },
    );

    client.write(rest);
    client.write('.\r\n');
    const reply = await client.read(15_000);
    client.close();

    expect(reply.code, reply.text).toBe(451);
    expect(reply.text).toMatch(/^4\.3\.0 /);
    // The tail that the APPEND made anew is deleted; no job or bytes were queued.
    await waitFor(async () => (await admin.keys(`${prefix}:spool:*`)).length === 0, {
      what: 'the spooled tail to be deleted',
    });
    expect(await admin.keys(`${prefix}:raw:*`)).toEqual([]);
    expect(gw.ses.sends).toEqual([]);
    expect(gw.logs.some((l) => /lost its first part/.test(String(l.err)))).toBe(true);
  });
});
