import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { isSnsEnvelope } from '../../src/webhook/sqs-poller.js';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { createSnsSigner, sesFixture, TEST_TOPIC_ARN, type SnsSigner } from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

function bounce(address: string): Record<string, unknown> {
  const event = sesFixture('bounce-permanent') as { bounce: Record<string, unknown> };
  return { ...event, bounce: { ...event.bounce, bouncedRecipients: [{ emailAddress: address }] } };
}

describe('SES feedback through SQS polling', () => {
  let sqs: FakeSqs;
  let gw: TestGateway;
  let signer: SnsSigner;
  beforeAll(async () => {
    sqs = await startFakeSqs();
    signer = await createSnsSigner();
    gw = await startGateway(
      {
        ROLES: 'worker',
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_ENDPOINT: sqs.url,
        SNS_TOPIC_ARNS: TEST_TOPIC_ARN,
        // Raw delivery from a trusted publisher (opted in); refused by default (the block below).
        SQS_RAW_MESSAGES: 'true',
      },
      { fetchSnsCertificate: signer.fetchCertificate },
    );
  });
  afterAll(async () => {
    await gw.stop();
    await sqs.stop();
  });

  it('applies an SNS envelope and a raw SES event, deleting each only after it was applied', async () => {
    const store = createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX });
    const envelopeId = sqs.send(JSON.stringify(signer.notification(sesFixture('bounce-permanent'))));
    const complaint = sesFixture('complaint-with-feedback');
    const rawId = sqs.send(JSON.stringify(complaint));
    await waitFor(() => sqs.deleted.includes(envelopeId) && sqs.deleted.includes(rawId), {
      timeoutMs: 15_000,
    });
    expect(await store.isSuppressed('jane@example.com')).toBe(true);
    const complainer = (complaint.complaint as { complainedRecipients: { emailAddress: string }[] })
      .complainedRecipients[0]!;
    expect(await store.isSuppressed(complainer.emailAddress)).toBe(true);
  });

  it('applies feedback that waited in the queue longer than the dedupe window (an outage)', async () => {
    const store = createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX });
    const event = bounce('late@example.com');
    const timestamp = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const id = sqs.send(JSON.stringify(signer.notification(event, { timestamp })));
    await waitFor(() => sqs.deleted.includes(id), { timeoutMs: 15_000 });
    expect(await store.isSuppressed('late@example.com')).toBe(true);
  });

  it('leaves a forged or malformed message in the queue for the redrive policy', async () => {
    const forged = signer.notification(sesFixture('bounce-permanent'));
    forged.Message = forged.Message.replace('jane@example.com', 'victim@example.com');
    const forgedId = sqs.send(JSON.stringify(forged));
    const junkId = sqs.send('this is not JSON');
    await waitFor(
      () => sqs.messages.filter((m) => [forgedId, junkId].includes(m.id)).every((m) => m.receiveCount >= 2),
      {
        timeoutMs: 15_000,
      },
    );
    expect(sqs.deleted).not.toContain(forgedId);
    expect(sqs.deleted).not.toContain(junkId);
    expect(gw.logs.some((l) => l.msg === 'sqs.message_left' && l.status === 403)).toBe(true);
  });

  it('tells an SNS envelope from a raw SES event', () => {
    expect(isSnsEnvelope(JSON.stringify({ Type: 'Notification', TopicArn: TEST_TOPIC_ARN }))).toBe(true);
    expect(isSnsEnvelope(JSON.stringify(sesFixture('delivery')))).toBe(false);
    expect(isSnsEnvelope('garbage')).toBe(false);
  });
});

describe('SES feedback through SQS without SQS_RAW_MESSAGES (the default)', () => {
  it('refuses a raw SES event (no signature) and leaves it in the queue; a signed envelope is applied', async () => {
    const sqs = await startFakeSqs();
    const signer = await createSnsSigner();
    const gw = await startGateway(
      { ROLES: 'worker', SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.url, SNS_TOPIC_ARNS: TEST_TOPIC_ARN },
      { fetchSnsCertificate: signer.fetchCertificate },
    );
    try {
      const store = createSuppressionStore({ redis: gw.redis, prefix: gw.config.REDIS_PREFIX });
      const complaint = sesFixture('complaint-with-feedback');
      const rawId = sqs.send(JSON.stringify(complaint));
      const envelopeId = sqs.send(JSON.stringify(signer.notification(sesFixture('bounce-permanent'))));
      await waitFor(() => sqs.deleted.includes(envelopeId), { timeoutMs: 15_000 });
      expect(await store.isSuppressed('jane@example.com')).toBe(true);
      const refused = await waitFor(() =>
        gw.logs.find((l) => String(l.msg).startsWith('sqs.raw_refused') && l.sqsMessageId === rawId),
      );
      expect(refused.level).toBe('warn');
      expect(sqs.deleted).not.toContain(rawId);
      const complainer = (complaint.complaint as { complainedRecipients: { emailAddress: string }[] })
        .complainedRecipients[0]!;
      expect(await store.isSuppressed(complainer.emailAddress)).toBe(false);
    } finally {
      await gw.stop();
      await sqs.stop();
    }
  });
});
