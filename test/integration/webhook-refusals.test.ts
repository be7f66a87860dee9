import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createSnsWebhook } from '../../src/webhook/webhook.js';
import { useWebhookServer } from '../helpers/webhook-fixture.js';
import {
  createTestCertificate,
  RecordingSuppressionSink,
  sesFixture,
  SnsSigner,
  startWebhookServer,
  TEST_TOPIC_ARN,
} from '../helpers/sns-signer.js';

const OTHER_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:someone-else';

// What the webhook refuses and how it answers SNS's subscription messages; applying feedback is in
// webhook-router.test.ts.
const fx = useWebhookServer('webhook-refusals');
const { prefix, todayStats, logged } = fx;

describe('refusals', () => {
  it('refuses a forged signature and a tampered field with 403, applying nothing', async () => {
    const forger = new SnsSigner(await createTestCertificate(), fx.signer.certUrl);
    const forged = await fx.server.post(forger.notification(sesFixture('bounce-permanent')));
    const genuine = fx.signer.notification(sesFixture('bounce-permanent'));
    const tampered = await fx.server.post({
      ...genuine,
      Message: genuine.Message.replace('jane@', 'victim@'),
    });
    for (const reply of [forged, tampered]) {
      expect(reply).toMatchObject({ status: 403, json: { error: { code: 'SNS_SIGNATURE_INVALID' } } });
    }
    expect(fx.server.sink.suppressed).toEqual([]);
    expect(await todayStats()).toEqual({});
  });

  it.each([
    ['a non-SNS host', 'https://evil.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem'],
    [
      'http',
      'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
    ],
  ])('refuses a certificate URL on %s without fetching it', async (_what, certUrl) => {
    const other = new SnsSigner(fx.signer.certificate, certUrl);
    const reply = await fx.server.post(other.notification(sesFixture('bounce-permanent')));
    expect(reply).toMatchObject({ status: 403, json: { error: { code: 'SNS_SIGNATURE_INVALID' } } });
    expect(reply.json.error?.message).toMatch(/SigningCertURL refused/);
    expect([...fx.signer.fetches, ...other.fetches]).toEqual([]);
  });

  it('refuses a correctly signed message from a topic not allowed, with a warning and no certificate fetch', async () => {
    const reply = await fx.server.post(
      fx.signer.notification(sesFixture('bounce-permanent'), { topicArn: OTHER_TOPIC_ARN }),
    );
    expect(reply).toMatchObject({ status: 403, json: { error: { code: 'SNS_TOPIC_NOT_ALLOWED' } } });
    expect(logged('sns.refused')).toMatchObject([{ level: 'warn', code: 'SNS_TOPIC_NOT_ALLOWED' }]);
    expect(fx.signer.fetches).toEqual([]);
    expect(fx.server.sink.suppressed).toEqual([]);
  });

  it('answers 503 to everything, so SNS retries, and says so at start-up, when no topic is configured', async () => {
    const sink = new RecordingSuppressionSink();
    const webhook = createSnsWebhook({
      redis: fx.redis,
      prefix,
      store: sink,
      logger: createLogger('silent'),
      topicArns: [],
      fetchCertificate: fx.signer.fetchCertificate,
    });
    expect(webhook.warnings).toEqual([expect.stringMatching(/SNS_TOPIC_ARNS is empty.*503/)]);
    const notification = fx.signer.notification(sesFixture('bounce-permanent'));
    const confirmation = fx.signer.subscriptionConfirmation();
    for (const message of [notification, confirmation]) {
      const result = await webhook.handleSnsBody(JSON.stringify(message), {});
      expect(result).toEqual({
        status: 503,
        body: {
          error: {
            code: 'SNS_NO_TOPICS',
            message: 'no SNS topic is configured (SNS_TOPIC_ARNS is empty); nothing was applied, retry later',
          },
        },
      });
    }
    expect(sink.suppressed).toEqual([]);
    // Checked before the signature: an empty list costs no certificate fetch, whoever posts.
    expect(fx.signer.fetches).toEqual([]);
  });

  it('answers 400 to malformed JSON and to a notification whose Message is not an SES event', async () => {
    expect(await fx.server.post('{"Type": "Notification",')).toMatchObject({
      status: 400,
      json: { error: { code: 'SNS_MALFORMED', message: 'the body is not JSON' } },
    });
    expect(await fx.server.post(fx.signer.notification('Hello from the console'))).toMatchObject({
      status: 400,
      json: { error: { code: 'SES_EVENT_MALFORMED' } },
    });
  });

  it('refuses raw message delivery, explaining why in the log', async () => {
    const bare = JSON.stringify(sesFixture('bounce-permanent'));
    const withHeader = await fx.server.post(bare, { 'x-amz-sns-rawdelivery': 'true' });
    const headerless = await fx.server.post(bare);
    for (const reply of [withHeader, headerless]) {
      expect(reply).toMatchObject({ status: 403, json: { error: { code: 'SNS_RAW_DELIVERY' } } });
    }
    // Warn, not error: anyone can post an unsigned body, and the log line still says what to change.
    expect(logged('sns.refused')).toMatchObject([
      { level: 'warn', reason: expect.stringMatching(/turn RawMessageDelivery off/) },
      { level: 'warn', reason: expect.stringMatching(/no Signature/) },
    ]);
    expect(fx.server.sink.suppressed).toEqual([]);
  });

  it('logs anonymous refusals at warn, keeping error for its own failures', async () => {
    expect(await fx.server.post('{}')).toMatchObject({
      status: 403,
      json: { error: { code: 'SNS_RAW_DELIVERY' } },
    });
    expect(await fx.server.post('hello')).toMatchObject({ status: 400 });
    expect(fx.server.logs.filter((line) => line.level === 'error')).toEqual([]);
    expect(logged('sns.refused')).toMatchObject([
      { level: 'warn', code: 'SNS_RAW_DELIVERY' },
      { level: 'warn', code: 'SNS_MALFORMED' },
    ]);

    const failing = await startWebhookServer({
      redis: fx.redis,
      prefix,
      signer: fx.signer,
      confirmSubscription: () => Promise.reject(new Error('ETIMEDOUT')),
    });
    expect((await failing.post(fx.signer.subscriptionConfirmation())).status).toBe(503);
    await failing.close();
    expect(failing.logs.filter((line) => line.msg === 'sns.refused')).toMatchObject([
      { level: 'error', code: 'SNS_SUBSCRIBE_FAILED' },
    ]);
  });

  it('answers a body it cannot read with fixed texts: 415 for its encoding or charset, 400 when it does not decompress', async () => {
    const charset = await fx.server.post('{}', { 'content-type': 'text/plain; charset=bogus-charset-x' });
    expect(charset).toEqual({
      status: 415,
      json: {
        error: {
          code: 'SNS_UNSUPPORTED_MEDIA_TYPE',
          message: 'the body has an encoding or charset it cannot read',
        },
      },
    });
    const encoding = await fx.server.post('{}', { 'content-encoding': 'x-bogus' });
    expect(encoding).toEqual(charset);
    const gzip = await fx.server.post('definitely not gzip', { 'content-encoding': 'gzip' });
    expect(gzip).toEqual({
      status: 400,
      json: { error: { code: 'SNS_MALFORMED', message: 'the body could not be read' } },
    });
    expect(JSON.stringify(fx.server.logs)).not.toMatch(/"level":"error"/);
  });

  it('refuses a message older than the dedupe window, which could be a replay', async () => {
    const old = new Date(Date.now() - 4 * 86_400_000).toISOString();
    const reply = await fx.server.post(
      fx.signer.notification(sesFixture('bounce-permanent'), { timestamp: old }),
    );
    expect(reply).toMatchObject({ status: 400, json: { error: { code: 'SNS_STALE_MESSAGE' } } });
  });
});

describe('subscription messages', () => {
  it.each(['1', '2'] as const)(
    'confirms an SV%s SubscriptionConfirmation by GETting its SubscribeURL',
    async (version) => {
      const message = fx.signer.subscriptionConfirmation({ version });
      expect(await fx.server.post(message)).toEqual({ status: 200, json: { status: 'confirmed' } });
      expect(fx.server.confirmations).toEqual([message.SubscribeURL]);
      expect(logged('sns.subscription.confirmed')).toMatchObject([{ topicArn: TEST_TOPIC_ARN }]);
    },
  );

  it('does not call a SubscribeURL outside SNS, even when the message is signed', async () => {
    const message = fx.signer.subscriptionConfirmation({
      subscribeUrl: 'https://169.254.169.254/latest/meta-data/?Action=ConfirmSubscription',
    });
    expect(await fx.server.post(message)).toMatchObject({
      status: 403,
      json: { error: { code: 'SNS_SUBSCRIBE_URL_INVALID' } },
    });
    expect(fx.server.confirmations).toEqual([]);
  });

  it('answers 503 when the confirmation GET fails, so SNS sends it again', async () => {
    const failing = await startWebhookServer({
      redis: fx.redis,
      prefix,
      signer: fx.signer,
      confirmSubscription: () => Promise.reject(new Error('ETIMEDOUT')),
    });
    const reply = await failing.post(fx.signer.subscriptionConfirmation());
    await failing.close();
    expect(reply).toMatchObject({ status: 503, json: { error: { code: 'SNS_SUBSCRIBE_FAILED' } } });
  });

  it.each(['1', '2'] as const)(
    'verifies an SV%s UnsubscribeConfirmation, logs it loudly and answers 200',
    async (version) => {
      expect(await fx.server.post(fx.signer.unsubscribeConfirmation({ version }))).toEqual({
        status: 200,
        json: { status: 'unsubscribed' },
      });
      expect(logged('sns.unsubscribed')).toMatchObject([{ level: 'warn', topicArn: TEST_TOPIC_ARN }]);
      expect(fx.server.confirmations).toEqual([]);
    },
  );
});
