import SnsPayloadValidator from 'sns-payload-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/webhook/errors.js';
import type { SnsMessage } from '../../src/webhook/sns-envelope.js';
import { createSnsVerifier, stringToSign, type SnsVerifierOptions } from '../../src/webhook/sns-verify.js';
import {
  createSnsSigner,
  createTestCertificate,
  SnsSigner,
  type SignatureVersion,
} from '../helpers/sns-signer.js';

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WebhookError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

const VERSIONS: SignatureVersion[] = ['1', '2'];

describe('SNS signature verification', () => {
  let signer: SnsSigner;
  const verifier = (options: SnsVerifierOptions = {}) =>
    createSnsVerifier({ fetchCertificate: signer.fetchCertificate, ...options });

  beforeAll(async () => {
    signer = await createSnsSigner();
  });

  const messagesOf = (version: SignatureVersion): [string, SnsMessage][] => [
    ['Notification', signer.notification({ notificationType: 'Delivery' }, { version })],
    [
      'Notification with Subject',
      signer.notification('{}', { version, subject: 'Amazon SES Email Event Notification' }),
    ],
    ['SubscriptionConfirmation', signer.subscriptionConfirmation({ version })],
    ['UnsubscribeConfirmation', signer.unsubscribeConfirmation({ version })],
  ];

  it.each(VERSIONS)('accepts every message type signed with SignatureVersion %s', async (version) => {
    const v = verifier();
    for (const [type, message] of messagesOf(version)) {
      expect(`${type}: ${await refusal(v.verify(message))}`).toBe(`${type}: accepted`);
    }
  });

  it.each(VERSIONS)('refuses SV%s messages with any signed field changed', async (version) => {
    const v = verifier();
    const notification = signer.notification('{"a":1}', { version, subject: 's' });
    const confirmation = signer.subscriptionConfirmation({ version });
    const tampered: SnsMessage[] = [
      { ...notification, Message: '{"a":2}' },
      { ...notification, MessageId: 'a5a1a5a1-0000-0000-0000-000000000000' },
      { ...notification, Subject: 'other' },
      { ...notification, Subject: undefined },
      { ...notification, Timestamp: '2030-01-01T00:00:00.000Z' },
      { ...notification, TopicArn: 'arn:aws:sns:us-east-1:123456789012:other' },
      { ...confirmation, Token: 'f00' },
      {
        ...confirmation,
        SubscribeURL: `${confirmation.Type === 'SubscriptionConfirmation' ? confirmation.SubscribeURL : ''}x`,
      },
      { ...notification, SignatureVersion: version === '1' ? '2' : '1' },
    ];
    for (const message of tampered)
      expect(await refusal(v.verify(message))).toMatch(/^SNS_SIGNATURE_INVALID/);
  });

  it('does not cover UnsubscribeURL, as SNS does not sign it', async () => {
    const message = signer.notification('{}');
    expect(
      await refusal(verifier().verify({ ...message, UnsubscribeURL: 'https://elsewhere.example/' })),
    ).toBe('accepted');
  });

  it('refuses a message signed with another key, garbage and unknown signature versions', async () => {
    const forger = new SnsSigner(await createTestCertificate(), signer.certUrl);
    const v = verifier();
    expect(await refusal(v.verify(forger.notification('{}')))).toMatch(
      /^SNS_SIGNATURE_INVALID: signature does not match/,
    );
    const message = signer.notification('{}');
    expect(await refusal(v.verify({ ...message, Signature: 'bm90IGEgc2lnbmF0dXJl' }))).toMatch(
      /^SNS_SIGNATURE_INVALID/,
    );
    expect(await refusal(v.verify({ ...message, SignatureVersion: '3' }))).toMatch(
      /unsupported SignatureVersion 3/,
    );
  });

  it.each([
    [
      'on a non-SNS host',
      'https://attacker.example/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
    ],
    [
      'over http',
      'http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
    ],
    [
      'in an S3 bucket',
      'https://sns-certs.s3.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem',
    ],
    ['that is not a .pem', 'https://sns.us-east-1.amazonaws.com/cert'],
  ])('refuses a certificate URL %s without fetching it', async (_what, certUrl) => {
    const other = new SnsSigner(signer.certificate, certUrl);
    const v = createSnsVerifier({ fetchCertificate: other.fetchCertificate });
    expect(await refusal(v.verify(other.notification('{}')))).toMatch(
      /^SNS_SIGNATURE_INVALID: SigningCertURL refused/,
    );
    expect(other.fetches).toEqual([]);
  });

  it("refuses a certificate not issued to SNS's name for the topic's region, one out of its validity, and a body that is no certificate", async () => {
    const stranger = new SnsSigner(await createTestCertificate('attacker.example'));
    const v = createSnsVerifier({ fetchCertificate: stranger.fetchCertificate });
    expect(await refusal(v.verify(stranger.notification('{}')))).toMatch(
      /name \(CN=attacker.example\) does not match what AWS uses for us-east-1: sns.amazonaws.com$/,
    );

    const later = verifier({ now: () => Date.now() + 30 * 86_400_000 });
    expect(await refusal(later.verify(signer.notification('{}')))).toMatch(/not valid now/);

    const html = createSnsVerifier({ fetchCertificate: () => Promise.resolve('<html>503</html>') });
    expect(await refusal(html.verify(signer.notification('{}')))).toMatch(/is not a certificate/);
  });

  it('reports a certificate that cannot be fetched as retryable and tries again next time', async () => {
    let calls = 0;
    const v = createSnsVerifier({
      fetchCertificate: (url) =>
        ++calls === 1 ? Promise.reject(new Error('ETIMEDOUT')) : signer.fetchCertificate(url),
    });
    expect(await refusal(v.verify(signer.notification('{}')))).toMatch(/^SNS_CERT_UNAVAILABLE/);
    expect(await refusal(v.verify(signer.notification('{}')))).toBe('accepted');
    expect(calls).toBe(2);
  });

  it('fetches a certificate once, also for concurrent first messages, and keeps at most N keys', async () => {
    const fetches: string[] = [];
    const signers = ['a', 'b', 'c'].map(
      (id) =>
        new SnsSigner(
          signer.certificate,
          `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-${id}.pem`,
        ),
    );
    const v = createSnsVerifier({
      cacheMaxEntries: 2,
      fetchCertificate: (url) => {
        fetches.push(url.pathname.slice(-5, -4));
        return Promise.resolve(signer.certificate.certPem);
      },
    });
    const [a, b, c] = signers as [SnsSigner, SnsSigner, SnsSigner];
    await Promise.all(Array.from({ length: 20 }, () => v.verify(a.notification('{}'))));
    await v.verify(b.notification('{}'));
    await v.verify(a.notification('{}')); // a is now the most recent; b is evicted next
    await v.verify(c.notification('{}'));
    await v.verify(a.notification('{}'));
    await v.verify(b.notification('{}'));
    expect(fetches).toEqual(['a', 'b', 'c', 'b']);
  });
});

describe('string to sign', () => {
  const base = {
    MessageId: 'm-1',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
    Message: 'line 1\nline "2"',
    Timestamp: '2026-01-01T00:00:00.000Z',
    SignatureVersion: '2',
    Signature: 's',
    SigningCertURL: 'u',
  };

  it('lists Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type for a notification', () => {
    const without: SnsMessage = { Type: 'Notification', ...base, UnsubscribeURL: 'x' };
    expect(stringToSign(without)).toBe(
      'Message\nline 1\nline "2"\nMessageId\nm-1\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\nNotification\n',
    );
    expect(stringToSign({ ...without, Subject: 'hi' })).toContain('MessageId\nm-1\nSubject\nhi\nTimestamp\n');
  });

  it('adds SubscribeURL and Token for both confirmation types', () => {
    for (const Type of ['SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const) {
      const message: SnsMessage = { Type, ...base, Token: 'tok', SubscribeURL: 'https://s/' };
      expect(stringToSign(message)).toBe(
        `Message\nline 1\nline "2"\nMessageId\nm-1\nSubscribeURL\nhttps://s/\nTimestamp\n2026-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\n${Type}\n`,
      );
    }
  });

  it('agrees with sns-payload-validator, an independent implementation, on all types and versions', async () => {
    const signer = await createSnsSigner();
    const validator = new SnsPayloadValidator();
    (validator as unknown as { certCache: Map<string, string> }).certCache.set(
      signer.certUrl,
      signer.certificate.certPem,
    );
    for (const version of VERSIONS) {
      const messages = [
        signer.notification('{"x":"é"}', { version }),
        signer.notification('{}', { version, subject: 'subject' }),
        signer.subscriptionConfirmation({ version }),
        signer.unsubscribeConfirmation({ version }),
      ];
      for (const message of messages) {
        const wire = JSON.stringify(message);
        await expect(validator.validate(wire)).resolves.toBeTruthy();
        await expect(
          validator.validate(JSON.stringify({ ...message, Message: 'changed' })),
        ).rejects.toThrow();
      }
    }
  });
});
