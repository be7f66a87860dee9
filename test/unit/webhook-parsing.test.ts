import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/webhook/errors.js';
import { bareAddress, parseSesEvent } from '../../src/webhook/ses-event.js';
import { parseSnsEnvelope } from '../../src/webhook/sns-envelope.js';
import { checkSigningCertUrl, checkSubscribeUrl } from '../../src/webhook/sns-url.js';
import { sesFixture } from '../helpers/sns-signer.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookError) return err.code;
    throw err;
  }
  return undefined;
}

describe('SES event parsing', () => {
  it.each([
    ['bounce-permanent', 'Bounce'],
    ['bounce-transient', 'Bounce'],
    ['complaint-with-feedback', 'Complaint'],
    ['complaint-no-feedback', 'Complaint'],
    ['delivery', 'Delivery'],
    ['delivery-delay', 'DeliveryDelay'],
    ['reject', 'Reject'],
  ])('reads the AWS example %s as a %s event', (fixture, type) => {
    const event = parseSesEvent(JSON.stringify(sesFixture(fixture)));
    expect(event.type).toBe(type);
  });

  it('reads the identity form (notificationType) and the event-publishing form (eventType) alike', () => {
    const identity = sesFixture('bounce-permanent');
    const { notificationType, ...rest } = identity;
    const published = {
      eventType: notificationType,
      ...rest,
      mail: { ...(rest.mail as object), tags: { a: ['b'] } },
    };
    const a = parseSesEvent(JSON.stringify(identity));
    const b = parseSesEvent(JSON.stringify(published));
    expect(b).toEqual(a);
    expect(a.type === 'Bounce' && a.bounce.bouncedRecipients[0]?.emailAddress).toBe('jane@example.com');
  });

  it('prefers notificationType when both are present', () => {
    const both = { ...sesFixture('delivery'), eventType: 'Send' };
    expect(parseSesEvent(JSON.stringify(both)).type).toBe('Delivery');
  });

  it('passes other notification types through by name', () => {
    const event = parseSesEvent('{"notificationType":"AmazonSnsSubscriptionSucceeded","message":"hi"}');
    expect(event).toEqual({ type: 'Other', name: 'AmazonSnsSubscriptionSucceeded' });
  });

  it.each([
    ['not JSON', 'hello world'],
    ['a JSON array', '[]'],
    ['no type', '{"mail":{}}'],
    [
      'a bounce without recipients list',
      '{"notificationType":"Bounce","mail":{"messageId":"m"},"bounce":{"bounceType":"Permanent","bounceSubType":"General"}}',
    ],
    ['a complaint without mail', '{"notificationType":"Complaint","complaint":{"complainedRecipients":[]}}'],
    [
      'a recipient without an address',
      '{"eventType":"Delivery","mail":{"messageId":"m"},"delivery":{"recipients":[""]}}',
    ],
  ])('refuses %s as SES_EVENT_MALFORMED', (_what, text) => {
    expect(codeOf(() => parseSesEvent(text))).toBe('SES_EVENT_MALFORMED');
  });

  it.each([
    ['jane@example.com', 'jane@example.com'],
    ['  jane@example.com ', 'jane@example.com'],
    ['"Jane Doe" <jane@example.com>', 'jane@example.com'],
  ])('takes the address out of %j', (raw, bare) => {
    expect(bareAddress(raw)).toBe(bare);
  });
});

describe('SNS envelope parsing', () => {
  const valid = {
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
    Message: '{}',
    Timestamp: '2012-05-02T00:54:06.655Z',
    SignatureVersion: '1',
    Signature: 'abc=',
    SigningCertURL: 'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-x.pem',
  };

  it('accepts a notification, treating a null Subject (Lambda form) as absent', () => {
    const message = parseSnsEnvelope(JSON.stringify({ ...valid, Subject: null }));
    expect(message.Type).toBe('Notification');
    expect(message.Type === 'Notification' && message.Subject).toBeUndefined();
  });

  it('accepts the AWS SubscriptionConfirmation example', () => {
    const text = JSON.stringify(sesFixture('sns-subscription-confirmation'));
    expect(parseSnsEnvelope(text).Type).toBe('SubscriptionConfirmation');
  });

  it.each([
    ['not JSON', '{"Type":', {}, 'SNS_MALFORMED'],
    ['a JSON string', '"hello"', {}, 'SNS_MALFORMED'],
    ['an unknown Type', JSON.stringify({ ...valid, Type: 'Other' }), {}, 'SNS_MALFORMED'],
    ['a missing TopicArn', JSON.stringify({ ...valid, TopicArn: undefined }), {}, 'SNS_MALFORMED'],
    ['a bad Timestamp', JSON.stringify({ ...valid, Timestamp: 'yesterday' }), {}, 'SNS_MALFORMED'],
    ['a MessageId that is not a UUID', JSON.stringify({ ...valid, MessageId: 'a:b' }), {}, 'SNS_MALFORMED'],
    [
      'a confirmation without SubscribeURL',
      JSON.stringify({ ...valid, Type: 'SubscriptionConfirmation', Token: 't' }),
      {},
      'SNS_MALFORMED',
    ],
    [
      'a type header that disagrees',
      JSON.stringify(valid),
      { 'x-amz-sns-message-type': 'SubscriptionConfirmation' },
      'SNS_MALFORMED',
    ],
    ['raw delivery (header)', JSON.stringify(valid), { 'x-amz-sns-rawdelivery': 'true' }, 'SNS_RAW_DELIVERY'],
    ['raw delivery (bare SES event)', JSON.stringify(sesFixture('bounce-permanent')), {}, 'SNS_RAW_DELIVERY'],
  ])('refuses %s', (_what, text, headers, code) => {
    expect(codeOf(() => parseSnsEnvelope(text, headers))).toBe(code);
  });
});

describe('URLs an SNS message may make us call', () => {
  const topicArn = 'arn:aws:sns:us-west-2:123456789012:MyTopic';
  const certUrl =
    'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem';

  it.each([
    [certUrl, true],
    ['https://SNS.US-WEST-2.AMAZONAWS.COM/SimpleNotificationService-abc.pem', true],
    ['http://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem', false],
    ['https://sns.us-west-2.amazonaws.com.evil.example/x.pem', false],
    ['https://evil.example/sns.us-west-2.amazonaws.com/x.pem', false],
    ['https://sns.us-west-2.amazonaws.com@evil.example/x.pem', false],
    ['https://user@sns.us-west-2.amazonaws.com/x.pem', false],
    ['https://sns.us-west-2.amazonaws.com:8443/x.pem', false],
    ['https://s3.amazonaws.com/bucket/x.pem', false],
    ['https://sns.a.amazonaws.com/x.pem', false],
    ['https://my-bucket.s3.us-west-2.amazonaws.com/x.pem', false],
    ['https://sns.us-west-2.amazonaws.com/x.txt', false],
    ['https://sns.us-west-2.amazonaws.com/x.pem?y=1', false],
    ['not a url', false],
  ])('signing certificate URL %s → %s', (url, ok) => {
    expect(checkSigningCertUrl(url, topicArn).ok).toBe(ok);
  });

  it.each([
    ['https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:x&Token=t', true],
    ['https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:x', false],
    ['http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription', false],
    ['https://169.254.169.254/?Action=ConfirmSubscription', false],
    ['https://internal.example/?Action=ConfirmSubscription', false],
  ])('SubscribeURL %s → %s', (url, ok) => {
    expect(checkSubscribeUrl(url, topicArn).ok).toBe(ok);
  });
});
