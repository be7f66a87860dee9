import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import {
  createRegionalSigner,
  sesFixture,
  startWebhookServer,
  type SnsSigner,
  type WebhookServer,
} from '../helpers/sns-signer.js';

// The SNS endpoint for topics outside us-east-1: feedback from an opt-in region is applied, and what
// the 403 says when the certificate's host or name does not fit the topic's region.
const OPT_IN_TOPIC = 'arn:aws:sns:af-south-1:123456789012:ses-feedback';
const OPT_IN_HOST = 'sns.af-south-1.amazonaws.com';

describe('SNS topics in other regions, over HTTP', () => {
  const prefix = uniquePrefix('webhook-sns-regions');
  let redis: Redis;
  let server: WebhookServer | undefined;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterEach(async () => {
    await server?.close();
    await deleteKeys(redis, prefix);
  });
  afterAll(() => redis.disconnect());

  const serve = async (signer: SnsSigner) => {
    server = await startWebhookServer({ redis, prefix, signer, topicArns: [signer.topicArn] });
    return server;
  };

  it("applies a bounce from an opt-in region's topic, signed with sns-signing.<region>", async () => {
    const signer = await createRegionalSigner({
      topicArn: OPT_IN_TOPIC,
      certName: 'sns-signing.af-south-1.amazonaws.com',
      host: OPT_IN_HOST,
    });
    const http = await serve(signer);
    const reply = await http.post(signer.notification(sesFixture('bounce-permanent')));
    expect(reply).toEqual({ status: 200, json: { status: 'applied' } });
    expect(http.sink.addresses()).toEqual(['jane@example.com']);
  });

  it("answers 403 saying the certificate's name is not AWS's for the region", async () => {
    const signer = await createRegionalSigner({
      topicArn: OPT_IN_TOPIC,
      certName: 'sns.amazonaws.com',
      host: OPT_IN_HOST,
    });
    const reply = await (await serve(signer)).post(signer.notification(sesFixture('bounce-permanent')));
    expect(reply).toEqual({
      status: 403,
      json: {
        error: {
          code: 'SNS_SIGNATURE_INVALID',
          message:
            "the certificate's name (CN=sns.amazonaws.com) does not match what AWS uses for af-south-1: sns-signing.af-south-1.amazonaws.com",
        },
      },
    });
  });

  it("answers 403 saying the certificate URL's host is not the topic region's, without fetching it", async () => {
    const signer = await createRegionalSigner({
      topicArn: 'arn:aws:sns:us-west-2:123456789012:ses-feedback',
      certName: 'sns.amazonaws.com',
      host: 'sns.s3-us-west-2.amazonaws.com',
    });
    const http = await serve(signer);
    const reply = await http.post(signer.notification(sesFixture('complaint-with-feedback')));
    expect(reply).toEqual({
      status: 403,
      json: {
        error: {
          code: 'SNS_SIGNATURE_INVALID',
          message:
            "SigningCertURL refused: host sns.s3-us-west-2.amazonaws.com does not match the topic's region us-west-2 (expected sns.us-west-2.amazonaws.com)",
        },
      },
    });
    expect(signer.fetches).toEqual([]);
    expect(http.sink.suppressed).toEqual([]);
  });
});
