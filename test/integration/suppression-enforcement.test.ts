import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { startFakeSes } from '../helpers/fake-ses.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage, SmtpClient } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

describe('suppression enforcement', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  function storeFor(g: TestGateway, hashKey?: string) {
    return createSuppressionStore({
      redis: g.redis,
      prefix: g.config.REDIS_PREFIX,
      ...(hashKey ? { hashKey } : {}),
    });
  }

  it('refuses a suppressed recipient at RCPT with 550 5.1.1, reason and date; others are unaffected', async () => {
    gw = await startGateway();
    await storeFor(gw).suppress('Gone@Example.net', {
      reason: 'bounce',
      at: Date.parse('2026-11-01T08:00:00Z'),
    });
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['ok@example.net', 'gone@example.net'],
      message: simpleMessage(),
    });
    expect(result.rcpt[0]?.code).toBe(250);
    expect(result.rcpt[1]?.code).toBe(550);
    expect(result.rcpt[1]?.text).toBe(
      '5.1.1 <gone@example.net>: recipient suppressed (bounce) since 2026-11-01',
    );
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw!.ses.sends[0]);
    expect(send.to).toEqual(['ok@example.net']);
  });

  it('in drop mode accepts the recipient, leaves it out of the envelope and counts it', async () => {
    gw = await startGateway({ SUPPRESSION_ACTION: 'drop' });
    await storeFor(gw).suppress('gone@example.net', { reason: 'complaint' });
    const result = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['ok@example.net', 'gone@example.net'],
      message: simpleMessage(),
    });
    expect(result.rcpt.map((r) => r.code)).toEqual([250, 250]);
    expect(result.data?.code).toBe(250);
    const send = await waitFor(() => gw!.ses.sends[0]);
    expect(send.to).toEqual(['ok@example.net']);
    expect(gw.logs.some((l) => l.msg === 'smtp.recipient_dropped' && l.rcpt === 'gone@example.net')).toBe(
      true,
    );

    const onlySuppressed = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['gone@example.net'],
      message: simpleMessage(),
    });
    expect(onlySuppressed.data?.code).toBe(250);
    expect(onlySuppressed.data?.text).toContain('not queued');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toContain('ses_relay_recipients_suppressed_total{stage="rcpt"} 2');
  });

  it('leaves out recipients suppressed after queueing; a message left with none completes as dropped', async () => {
    const ses = await startFakeSes();
    gw = await startGateway({ ROLES: 'smtp,http' }, { ses, cleanup: false });
    const prefix = gw.config.REDIS_PREFIX;
    const first = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['a@example.net', 'b@example.net'],
      message: simpleMessage(),
    });
    const second = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['b@example.net'],
      message: simpleMessage(),
    });
    const firstId = /queued as (\w+)/.exec(first.data!.text)![1]!;
    const secondId = /queued as (\w+)/.exec(second.data!.text)![1]!;
    await storeFor(gw).suppress('b@example.net', { reason: 'bounce' });
    await gw.stop();

    gw = await startGateway({ ROLES: 'worker' }, { ses, prefix });
    const queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix });
    try {
      await waitFor(
        async () =>
          (await queue.getJobState(firstId)) === 'completed' &&
          (await queue.getJobState(secondId)) === 'completed',
      );
      expect(ses.sends.map((s) => s.to)).toEqual([['a@example.net']]);
      expect((await queue.getJob(secondId))?.returnvalue).toEqual({
        sesMessageIds: [],
        suppressed: ['b@example.net'],
      });
    } finally {
      await queue.close();
      await gw.stop();
      await ses.stop();
    }
  });

  it('in privacy mode (SUPPRESSION_HASH_KEY) stores no plain address and still refuses it', async () => {
    gw = await startGateway({ SUPPRESSION_HASH_KEY: 'k3y-for-tests' });
    await storeFor(gw, 'k3y-for-tests').suppress('secret@example.net', { reason: 'manual' });
    const client = await SmtpClient.connect(gw.smtpPort);
    await client.hello();
    await client.command('MAIL FROM:<app@example.com>');
    expect((await client.command('RCPT TO:<secret@example.net>')).code).toBe(550);
    client.close();
    const keys = await gw.redis.keys(`${gw.config.REDIS_PREFIX}:supp*`);
    for (const key of keys) {
      const type = await gw.redis.type(key);
      const dump =
        type === 'hash'
          ? JSON.stringify(await gw.redis.hgetall(key))
          : type === 'zset'
            ? JSON.stringify(await gw.redis.zrange(key, '0', '-1'))
            : String(await gw.redis.get(key));
      expect(dump).not.toContain('secret@example.net');
    }
  });
});
