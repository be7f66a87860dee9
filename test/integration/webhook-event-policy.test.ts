// SES events whose fields are odd but readable, applied to the real suppression store: each is
// applied (200) or refused (4xx) for good, never answered 503 for ever, and counted as SES means it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSuppressionStore, type SuppressionStore } from '../../src/suppression/index.js';
import { useWebhookServer } from '../helpers/webhook-fixture.js';
import { sesFixture, startWebhookServer, type WebhookServer } from '../helpers/sns-signer.js';

describe('SES event fields, applied to the real store', () => {
  const fx = useWebhookServer('webhook-event-policy');
  let store: SuppressionStore;
  let server: WebhookServer;
  beforeEach(async () => {
    store = createSuppressionStore({ redis: fx.redis, prefix: fx.prefix });
    server = await startWebhookServer({ redis: fx.redis, prefix: fx.prefix, signer: fx.signer, store });
  });
  afterEach(() => server.close());

  it.each([
    ['a zero date', '0001-01-01T00:00:00Z'],
    ['a time before 1970', '1969-12-31T23:59:59.999Z'],
  ])('applies a bounce whose timestamp is %s, at the mail’s time instead', async (_what, timestamp) => {
    const event = sesFixture('bounce-permanent') as { bounce: Record<string, unknown> };
    const message = fx.signer.notification({
      ...event,
      bounce: { ...event.bounce, timestamp, bouncedRecipients: [{ emailAddress: 'zero@example.com' }] },
    });
    expect(await server.post(message)).toEqual({ status: 200, json: { status: 'applied' } });
    const record = await store.get('zero@example.com');
    expect(record?.reason).toBe('bounce');
    expect(record?.firstSeen).toBe(Date.parse('2016-01-27T14:59:38.237Z'));
    // The redelivery SNS would make of a 503 is now a duplicate.
    expect(await server.post(message)).toEqual({ status: 200, json: { status: 'duplicate' } });
  });

  it('applies a soft bounce and a delivery with no usable time at the time they arrive', async () => {
    const soft = sesFixture('bounce-transient') as { bounce: Record<string, unknown>; mail: object };
    const bounce = fx.signer.notification({
      ...soft,
      mail: { ...soft.mail, timestamp: '1900-01-01T00:00:00Z' },
      bounce: { ...soft.bounce, timestamp: '0001-01-01T00:00:00Z' },
    });
    expect(await server.post(bounce)).toMatchObject({ status: 200 });
    const delivery = sesFixture('delivery') as { delivery: object; mail: object };
    const delivered = fx.signer.notification({
      ...delivery,
      mail: { ...delivery.mail, timestamp: '0001-01-01T00:00:00Z' },
      delivery: { ...delivery.delivery, timestamp: '0001-01-01T00:00:00Z' },
    });
    expect(await server.post(delivered)).toMatchObject({ status: 200 });
    expect(await fx.todayStats()).toMatchObject({ bounced_soft: 1, delivered: 1 });
  });

  it('counts a complaint whose feedback type is spelled Not-Spam as not-spam, as it ignores it', async () => {
    const event = sesFixture('complaint-with-feedback') as { complaint: Record<string, unknown> };
    const message = fx.signer.notification({
      ...event,
      complaint: { ...event.complaint, complaintFeedbackType: 'Not-Spam' },
    });
    expect(await server.post(message)).toMatchObject({ status: 200 });
    expect(await store.isSuppressed('richard@example.com')).toBe(false);
    const stats = await fx.todayStats();
    // `complained` is what the complaint rate (and the reputation guard's pause) counts.
    expect(stats.complained).toBeUndefined();
    expect(stats.complained_not_spam).toBe(1);
  });
});
