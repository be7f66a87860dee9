import http from 'node:http';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RelayError } from '../../src/shared/errors.js';
import { utcDay } from '../../src/webhook/stats.js';
import { useWebhookServer } from '../helpers/webhook-fixture.js';
import { sesFixture, snsHeaders, startWebhookServer } from '../helpers/sns-signer.js';
import type { SnsMessage } from '../../src/webhook/sns-envelope.js';

function bounce(type: string, subType: string, addresses: string[]) {
  const event = sesFixture('bounce-permanent') as { bounce: Record<string, unknown> };
  return {
    ...event,
    bounce: {
      ...event.bounce,
      bounceType: type,
      bounceSubType: subType,
      bouncedRecipients: addresses.map((emailAddress) => ({ emailAddress, diagnosticCode: 'smtp; 5xx' })),
    },
  };
}

// Applying feedback end to end over HTTP; refusals and subscription messages are in
// webhook-refusals.test.ts, Redis outages in webhook-outage.test.ts.
describe('SNS webhook over HTTP', () => {
  const fx = useWebhookServer('webhook');
  const { prefix, keys, todayStats, logged } = fx;

  it.each(['1', '2'] as const)(
    'applies a SignatureVersion %s bounce and answers 200 once Redis holds it',
    async (version) => {
      const event = sesFixture('bounce-permanent') as { bounce: { feedbackId: string } };
      const message = fx.signer.notification(event, { version });
      const reply = await fx.server.post(message);
      expect(reply).toEqual({ status: 200, json: { status: 'applied' } });
      expect(fx.server.sink.suppressed).toEqual([
        {
          address: 'jane@example.com',
          details: expect.objectContaining({
            reason: 'bounce',
            bounceType: 'Permanent',
            bounceSubType: 'General',
            sesMessageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
          }),
        },
      ]);
      expect(await fx.redis.exists(keys.done(`bounce:${event.bounce.feedbackId}`))).toBe(1);
      expect(await todayStats()).toEqual({ bounced_hard: 1, 'bounce:Permanent/General': 1 });
    },
  );

  it('reads the body as text whatever the Content-Type says', async () => {
    for (const type of [
      'application/json',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ]) {
      const reply = await fx.server.post(fx.signer.notification(sesFixture('delivery')), {
        'content-type': type,
      });
      expect(`${type} ${reply.status}`).toBe(`${type} 200`);
    }
  });

  it('takes plain posts by the fast path and compressed, chunked or other-charset ones by the router, with the same outcome', async () => {
    const plain = fx.signer.notification(bounce('Permanent', 'General', ['fast@example.com']));
    expect((await fx.server.post(plain)).status).toBe(200);
    expect(fx.server.fastAnswers).toBe(1);

    const send = (message: SnsMessage, body: string | Buffer, headers: Record<string, string>) =>
      new Promise<{ status: number; json: { status?: string } }>((resolve, reject) => {
        const req = http.request(`${fx.server.url}/sns`, {
          method: 'POST',
          headers: { ...snsHeaders(message), ...headers },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { status?: string } }),
          );
        });
        req.on('error', reject);
        req.end(body);
      });
    const gzipped = fx.signer.notification(bounce('Permanent', 'General', ['gzip@example.com']));
    const gzipReply = await send(gzipped, zlib.gzipSync(JSON.stringify(gzipped)), {
      'content-encoding': 'gzip',
    });
    const chunked = fx.signer.notification(bounce('Permanent', 'General', ['chunked@example.com']));
    // No Content-Length: Node sends the body chunked.
    const chunkedReply = await send(chunked, JSON.stringify(chunked), { 'transfer-encoding': 'chunked' });
    const latin = fx.signer.notification(bounce('Permanent', 'General', ['latin@example.com']));
    const latinReply = await send(latin, JSON.stringify(latin), {
      'content-type': 'text/plain; charset=ISO-8859-1',
    });
    expect([gzipReply, chunkedReply, latinReply].map((r) => `${r.status} ${r.json.status}`)).toEqual([
      '200 applied',
      '200 applied',
      '200 applied',
    ]);
    expect(fx.server.fastAnswers).toBe(1);
    expect(fx.server.sink.suppressed.map((entry) => entry.address).sort()).toEqual([
      'chunked@example.com',
      'fast@example.com',
      'gzip@example.com',
      'latin@example.com',
    ]);
  });

  it('applies a replayed MessageId once, also when the copies race', async () => {
    const message = fx.signer.notification(bounce('Transient', 'MailboxFull', ['soft@example.com']));
    const replies = await Promise.all(Array.from({ length: 5 }, () => fx.server.post(message)));
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect((await fx.server.post(message)).json).toEqual({ status: 'duplicate' });
    expect(fx.server.sink.softBounces).toHaveLength(1);
    expect((await todayStats()).bounced_soft).toBe(1);
  });

  it('counts soft bounces per message and lets the store suppress at the limit', async () => {
    for (let i = 0; i < 3; i++) {
      expect(
        (await fx.server.post(fx.signer.notification(bounce('Transient', 'General', ['ooto@example.com']))))
          .status,
      ).toBe(200);
    }
    expect(fx.server.sink.softCounts.get('ooto@example.com')).toBe(3);
    expect(logged('feedback.soft_bounce.suppressed')).toMatchObject([
      { address: 'ooto@example.com', count: 3 },
    ]);
    await fx.server.post(fx.signer.notification(sesFixture('delivery'))); // jane: a delivery resets her count
    expect(fx.server.sink.resets).toEqual(['jane@example.com']);
  });

  it('applies a multi-recipient bounce to every recipient', async () => {
    const addresses = ['a@example.com', 'b@example.com', 'c@example.com'];
    expect(
      (await fx.server.post(fx.signer.notification(bounce('Permanent', 'NoEmail', addresses)))).status,
    ).toBe(200);
    expect(fx.server.sink.addresses()).toEqual(addresses);
    expect((await todayStats()).bounced_hard).toBe(3);
  });

  it('handles identity notifications (notificationType) and event publishing (eventType) alike', async () => {
    const { notificationType: _, ...complaint } = sesFixture('complaint-with-feedback');
    await fx.server.post(fx.signer.notification({ ...complaint, eventType: 'Complaint' }));
    await fx.server.post(fx.signer.notification(sesFixture('complaint-no-feedback')));
    expect(fx.server.sink.addresses()).toEqual(['richard@example.com', 'richard@example.com']);
    expect(fx.server.sink.suppressed[0]!.details).toMatchObject({
      reason: 'complaint',
      complaintFeedbackType: 'abuse',
    });
    expect((await todayStats()).complained).toBe(2);
  });

  it('keeps per-day counters for every event type, in a hash that lives 35 days', async () => {
    const mail = { messageId: 'ses-x', destination: ['a@example.com', 'b@example.com'] };
    const events = [
      sesFixture('delivery'),
      sesFixture('delivery-delay'),
      sesFixture('reject'),
      { eventType: 'Send', mail, send: {} },
      { eventType: 'Open', mail, open: {} },
      { eventType: 'Click', mail, click: {} },
      bounce('Permanent', 'OnAccountSuppressionList', ['x@example.com']),
      {
        ...sesFixture('complaint-with-feedback'),
        complaint: {
          complainedRecipients: [{ emailAddress: 'n@example.com' }],
          complaintFeedbackType: 'not-spam',
        },
      },
    ];
    for (const event of events)
      expect((await fx.server.post(fx.signer.notification(event))).status).toBe(200);
    expect(await todayStats()).toEqual({
      delivered: 1,
      delayed: 1,
      'delay:TransientCommunicationFailure': 1,
      rejected: 1,
      sent: 2,
      opened: 1,
      clicked: 1,
      bounced_on_account_list: 1,
      'bounce:Permanent/OnAccountSuppressionList': 1,
      complained_not_spam: 1,
      'complaint:not-spam': 1,
    });
    expect(fx.server.sink.suppressed.map((entry) => entry.address)).toEqual(['x@example.com']);
    const ttlMs = await fx.redis.pttl(keys.statsDay(utcDay(Date.now())));
    expect(ttlMs).toBeGreaterThan(34 * 86_400_000);
    expect(ttlMs).toBeLessThanOrEqual(35 * 86_400_000);
  });

  it('skips one recipient the store refuses for good and still commits the others', async () => {
    fx.server.sink.during = (_method, address) =>
      address === 'bad@example.com'
        ? Promise.reject(new RelayError('SMTP_BAD_ADDRESS', 'suppression address is not an email address'))
        : Promise.resolve();
    const reply = await fx.server.post(
      fx.signer.notification(bounce('Permanent', 'General', ['ok@example.com', 'bad@example.com'])),
    );
    expect(reply.status).toBe(200);
    expect(logged('feedback.recipient_skipped')).toMatchObject([
      { address: 'bad@example.com', code: 'SMTP_BAD_ADDRESS' },
    ]);
    expect((await todayStats()).bounced_hard).toBe(2);
  });

  it('keeps addresses out of its own Redis keys, and out of the logs when asked to', async () => {
    const quiet = await startWebhookServer({
      redis: fx.redis,
      prefix,
      signer: fx.signer,
      logAddresses: false,
    });
    const events = [
      bounce('Transient', 'MailboxFull', ['secret-soft@example.com']),
      bounce('Permanent', 'General', ['secret-hard@example.com']),
      bounce('Undetermined', 'Undetermined', ['secret-rec@example.com']),
    ];
    for (const event of events) expect((await quiet.post(fx.signer.notification(event))).status).toBe(200);
    await quiet.close();
    expect(quiet.sink.softBounces.map((call) => call.address)).toEqual(['secret-soft@example.com']);
    const keysWritten = await fx.redis.keys(`${prefix}:*`);
    expect(keysWritten.filter((key) => key.includes('@'))).toEqual([]);
    expect(keysWritten.some((key) => key.startsWith(`${prefix}:sns:soft:`))).toBe(true);
    const logText = JSON.stringify(quiet.logs);
    expect(logText).not.toMatch(/secret-|smtp; 5xx/);
    expect(quiet.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        'feedback.soft_bounce.counted',
        'feedback.suppressed',
        'feedback.bounce.recorded',
      ]),
    );
  });

  it('applies one SES event once when two SNS messages carry it (an identity topic and an event destination)', async () => {
    const event = bounce('Transient', 'General', ['twice@example.com']);
    const { notificationType: _, ...published } = event as Record<string, unknown>;
    const first = await fx.server.post(fx.signer.notification(event));
    const second = await fx.server.post(fx.signer.notification({ ...published, eventType: 'Bounce' }));
    expect([first.json, second.json]).toEqual([{ status: 'applied' }, { status: 'duplicate' }]);
    expect(fx.server.sink.softBounces.map((call) => call.address)).toEqual(['twice@example.com']);
    expect((await todayStats()).bounced_soft).toBe(1);
  });

  it('applies an already-authenticated SES event (the SQS path) once per id', async () => {
    const text = JSON.stringify(sesFixture('bounce-permanent'));
    expect(await fx.server.webhook.applySesEvent('sqs-1', text)).toEqual({
      status: 200,
      body: { status: 'applied' },
    });
    expect(await fx.server.webhook.applySesEvent('sqs-1', text)).toEqual({
      status: 200,
      body: { status: 'duplicate' },
    });
    expect(fx.server.sink.addresses()).toEqual(['jane@example.com']);
  });
});
