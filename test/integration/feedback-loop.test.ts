import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createTraceStore } from '../../src/trace/trace-store.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import {
  createSnsSigner,
  sesFixture,
  snsHeaders,
  TEST_TOPIC_ARN,
  type SnsSigner,
} from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

describe('feedback loop: SES bounce → SNS → suppression → RCPT refused', () => {
  let gw: TestGateway;
  let signer: SnsSigner;
  beforeAll(async () => {
    signer = await createSnsSigner();
    gw = await startGateway(
      { SNS_TOPIC_ARNS: TEST_TOPIC_ARN },
      { fetchSnsCertificate: signer.fetchCertificate },
    );
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('suppresses a hard-bounced recipient, extends the timeline and refuses the address afterwards', async () => {
    const sent = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['jane@example.com'],
      message: simpleMessage(),
    });
    const queueId = /queued as (\w+)/.exec(sent.data!.text)![1]!;
    const send = await waitFor(() => gw.ses.sends[0]);

    const bounce = sesFixture('bounce-permanent') as { mail: { messageId: string } };
    bounce.mail.messageId = send.messageId;
    const message = signer.notification(bounce);
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/sns`, {
      method: 'POST',
      headers: snsHeaders(message),
      body: JSON.stringify(message),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'applied' });

    const store = createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX });
    expect(await store.get('jane@example.com')).toMatchObject({ reason: 'bounce', bounceType: 'Permanent' });
    const trace = createTraceStore(gw.redis, gw.config.REDIS_PREFIX, gw.config.TRACE_RETENTION);
    const timeline = await trace.lookup(queueId);
    expect(timeline?.events.at(-1)).toMatchObject({
      type: 'ses-event',
      event: 'Bounce',
      detail: 'Permanent/General',
    });

    const again = await sendMail(gw.smtpPort, {
      from: 'app@example.com',
      to: ['jane@example.com'],
      message: simpleMessage(),
    });
    expect(again.rcpt[0]?.code).toBe(550);
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toContain(
      'ses_relay_sns_notifications_total{type="Notification",result="200",code="none"} 1',
    );
    expect(metrics).toContain('ses_relay_suppression_list_size 1');
  });

  it('refuses a correctly signed message from a topic that is not allowed', async () => {
    const message = signer.notification(sesFixture('delivery'), {
      topicArn: 'arn:aws:sns:us-east-1:999999999999:other',
    });
    const res = await fetch(`http://127.0.0.1:${gw.httpPort}/sns`, {
      method: 'POST',
      headers: snsHeaders(message),
      body: JSON.stringify(message),
    });
    expect(res.status).toBe(403);
  });
});
