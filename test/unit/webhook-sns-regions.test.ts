import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/webhook/errors.js';
import type { SnsMessage } from '../../src/webhook/sns-envelope.js';
import { checkSubscribeUrl } from '../../src/webhook/sns-url.js';
import { createSnsVerifier } from '../../src/webhook/sns-verify.js';
import { createRegionalSigner, type SnsSigner } from '../helpers/sns-signer.js';

// Messages signed as SNS signs them in each partition and kind of region, and the URLs a message may
// name for its topic's region. The names are AWS's (aws-sdk-java-v2 SnsHostProvider).

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WebhookError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

const verify = (signer: SnsSigner, message: SnsMessage) =>
  refusal(createSnsVerifier({ fetchCertificate: signer.fetchCertificate }).verify(message));

const everyType = (signer: SnsSigner): SnsMessage[] => [
  signer.notification({ notificationType: 'Delivery' }),
  signer.subscriptionConfirmation(),
  signer.unsubscribeConfirmation(),
];

describe('signing certificate names by region', () => {
  it.each([
    // family, topic, the region's SNS host, AWS's name there, a name of another family
    [
      'a standard commercial region',
      'arn:aws:sns:eu-west-1:123456789012:ses-feedback',
      'sns.eu-west-1.amazonaws.com',
      'sns.amazonaws.com',
      'sns.amazonaws.com.cn',
    ],
    [
      'an opt-in region',
      'arn:aws:sns:af-south-1:123456789012:ses-feedback',
      'sns.af-south-1.amazonaws.com',
      'sns-signing.af-south-1.amazonaws.com',
      'sns.amazonaws.com',
    ],
    [
      'GovCloud',
      'arn:aws-us-gov:sns:us-gov-east-1:123456789012:ses-feedback',
      'sns.us-gov-east-1.amazonaws.com',
      'sns-us-gov-west-1.amazonaws.com',
      'sns.amazonaws.com',
    ],
    [
      'China',
      'arn:aws-cn:sns:cn-north-1:123456789012:ses-feedback',
      'sns.cn-north-1.amazonaws.com.cn',
      'sns-cn-north-1.amazonaws.com.cn',
      'sns.amazonaws.com.cn',
    ],
  ])(
    'in %s, accepts the name AWS signs with and refuses another',
    async (_family, topicArn, host, name, other) => {
      const region = topicArn.split(':')[3]!;
      const genuine = await createRegionalSigner({ topicArn, certName: name, host });
      for (const message of everyType(genuine)) expect(await verify(genuine, message)).toBe('accepted');

      const wrong = await createRegionalSigner({ topicArn, certName: other, host });
      expect(await verify(wrong, wrong.notification('{}'))).toBe(
        `SNS_SIGNATURE_INVALID: the certificate's name (CN=${other}) does not match what AWS uses for ${region}: ${name}`,
      );
    },
  );

  it('accepts either sns.amazonaws.com or sns-signing.<region> in a commercial region AWS has not listed yet', async () => {
    const topicArn = 'arn:aws:sns:ap-southeast-9:123456789012:ses-feedback';
    const host = 'sns.ap-southeast-9.amazonaws.com';
    for (const certName of ['sns-signing.ap-southeast-9.amazonaws.com', 'sns.amazonaws.com']) {
      const signer = await createRegionalSigner({ topicArn, certName, host });
      expect(await verify(signer, signer.notification('{}'))).toBe('accepted');
    }
    const neighbour = await createRegionalSigner({
      topicArn,
      certName: 'sns-signing.af-south-1.amazonaws.com',
      host,
    });
    expect(await verify(neighbour, neighbour.notification('{}'))).toMatch(
      /does not match what AWS uses for ap-southeast-9: sns-signing.ap-southeast-9.amazonaws.com or sns.amazonaws.com$/,
    );
  });
});

describe("certificate URL hosts tied to the topic's region", () => {
  it.each([
    // what, topic, certificate URL host
    [
      'an S3 host (a bucket named sns)',
      'arn:aws:sns:us-west-2:123456789012:t',
      'sns.s3-us-west-2.amazonaws.com',
    ],
    ["another region's SNS host", 'arn:aws:sns:eu-west-1:123456789012:t', 'sns.us-east-1.amazonaws.com'],
    [
      'a China host for a commercial topic',
      'arn:aws:sns:us-east-1:123456789012:t',
      'sns.us-east-1.amazonaws.com.cn',
    ],
    [
      'a commercial host for a China topic',
      'arn:aws-cn:sns:cn-north-1:123456789012:t',
      'sns.cn-north-1.amazonaws.com',
    ],
  ])('refuses a certificate URL on %s without fetching it', async (_what, topicArn, host) => {
    const region = topicArn.split(':')[3]!;
    // Signed with a key whose certificate carries the region's right name: only the host is wrong.
    const signer = await createRegionalSigner({ topicArn, certName: 'sns.amazonaws.com', host });
    expect(await verify(signer, signer.notification('{}'))).toMatch(
      new RegExp(
        `^SNS_SIGNATURE_INVALID: SigningCertURL refused: host ${host} does not match the topic's region ${region}`,
      ),
    );
    expect(signer.fetches).toEqual([]);
  });

  it("refuses a signed SubscriptionConfirmation whose SubscribeURL is not on the topic's region's host", async () => {
    const topicArn = 'arn:aws:sns:us-west-2:123456789012:t';
    const signer = await createRegionalSigner({
      topicArn,
      certName: 'sns.amazonaws.com',
      host: 'sns.us-west-2.amazonaws.com',
    });
    for (const host of ['sns.s3-us-west-2.amazonaws.com', 'sns.eu-west-1.amazonaws.com']) {
      const subscribeUrl = `https://${host}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=t`;
      expect(await verify(signer, signer.subscriptionConfirmation({ subscribeUrl }))).toBe(
        `SNS_SUBSCRIBE_URL_INVALID: SubscribeURL refused: host ${host} does not match the topic's region us-west-2 (expected sns.us-west-2.amazonaws.com)`,
      );
    }
  });

  it('holds a SubscribeURL checked without the message to the region of the topic it names', () => {
    const url = (host: string, topic: string) =>
      `https://${host}/?Action=ConfirmSubscription&TopicArn=${topic}`;
    expect(checkSubscribeUrl(url('sns.eu-west-1.amazonaws.com', 'arn:aws:sns:eu-west-1:1:t')).ok).toBe(true);
    expect(
      checkSubscribeUrl(url('sns.s3-eu-west-1.amazonaws.com', 'arn:aws:sns:eu-west-1:1:t')),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not match the topic's region eu-west-1/),
    });
    expect(checkSubscribeUrl('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')).toEqual({
      ok: false,
      reason: 'names no topic',
    });
  });
});
