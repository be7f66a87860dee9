// The SQS feedback poller on its own, against the fake SQS: a receive that never answers is abandoned
// and logged (and its recovery too), raw bodies are refused unless SQS_RAW_MESSAGES vouches for the
// queue, and requests are signed for the queue's own region.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createSqsPoller, type SqsPoller, type SqsPollerOptions } from '../../src/webhook/sqs-poller.js';
import { sqsRegionOf } from '../../src/webhook/sqs-region.js';
import type { SnsResult } from '../../src/webhook/webhook.js';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.js';
import { TEST_CREDENTIALS, type LogLine } from '../helpers/gateway.js';
import { sesFixture } from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

const OK: SnsResult = { status: 200, body: { status: 'applied' } };

describe('SQS poller', () => {
  let sqs: FakeSqs | undefined;
  let poller: SqsPoller | undefined;
  afterEach(async () => {
    if (sqs) sqs.hangReceives = false;
    await poller?.stop();
    await sqs?.stop();
    poller = undefined;
    sqs = undefined;
  });

  function start(options: Partial<SqsPollerOptions> = {}) {
    const logs: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line) logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    const applied: string[] = [];
    poller = createSqsPoller({
      queueUrl: sqs!.queueUrl,
      region: 'us-east-1',
      endpoint: sqs!.url,
      credentials: TEST_CREDENTIALS,
      logger: createLogger('debug', sink),
      webhook: {
        handleSnsBody: (body) => Promise.resolve((applied.push(`envelope:${body}`), OK)),
        applySesEvent: (id) => Promise.resolve((applied.push(`raw:${id}`), OK)),
      },
      timing: { waitTimeSeconds: 1, receiveTimeoutMs: 1500, errorBackoffMs: 100, errorBackoffMaxMs: 400 },
      ...options,
    });
    poller.start();
    return { logs, applied };
  }

  it('abandons a receive that never answers, logs it with its back-off, and logs the recovery', async () => {
    sqs = await startFakeSqs();
    sqs.hangReceives = true;
    const { logs } = start();
    const failed = await waitFor(() => logs.find((l) => l.msg === 'sqs.receive_failed'), {
      what: 'the hung receive to be abandoned',
    });
    expect(failed).toMatchObject({ level: 'error', failures: 1, retryInMs: 100 });
    await waitFor(() => logs.find((l) => l.msg === 'sqs.receive_failed' && l.failures === 2), {
      what: 'a second failure, backing off longer',
    });
    expect(logs.find((l) => l.failures === 2)?.retryInMs).toBe(200);

    sqs.hangReceives = false;
    const recovered = await waitFor(() => logs.find((l) => l.msg === 'sqs.receive_recovered'), {
      what: 'receiving to recover',
    });
    expect(recovered.failures).toBeGreaterThanOrEqual(2);
    expect(Number(recovered.failingForMs)).toBeGreaterThan(0);
  });

  it('refuses a raw SES event by default and leaves it in the queue; an SNS envelope is handled', async () => {
    sqs = await startFakeSqs();
    sqs.visibilityMs = 60_000;
    const { logs, applied } = start();
    const rawId = sqs.send(JSON.stringify(sesFixture('complaint-with-feedback')));
    const envelopeId = sqs.send(
      JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:1:t' }),
    );
    await waitFor(() => sqs!.deleted.includes(envelopeId), { what: 'the envelope to be handled' });
    const refused = await waitFor(() => logs.find((l) => String(l.msg).startsWith('sqs.raw_refused')));
    expect(refused).toMatchObject({ level: 'warn', sqsMessageId: rawId });
    expect(refused.msg).toContain('SQS_RAW_MESSAGES=true');
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatch(/^envelope:/);
    expect(sqs.deleted).not.toContain(rawId);
  });

  it('applies raw SES events with SQS_RAW_MESSAGES', async () => {
    sqs = await startFakeSqs();
    const { applied } = start({ rawMessages: true });
    const rawId = sqs.send(JSON.stringify(sesFixture('complaint-with-feedback')));
    await waitFor(() => sqs!.deleted.includes(rawId), { what: 'the raw event to be applied' });
    expect(applied).toEqual([`raw:sqs:${rawId}`]);
  });

  it("signs for the region the queue URL names, not AWS_REGION's", async () => {
    sqs = await startFakeSqs();
    start({ queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ses-feedback' });
    await waitFor(() => sqs!.signingRegions.length > 0, { what: 'a request' });
    expect(sqs.signingRegions[0]).toBe('eu-west-1');
  });

  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/q', 'eu-west-1'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'cn-north-1'],
    ['https://ap-southeast-2.queue.amazonaws.com/123456789012/q', 'ap-southeast-2'],
    ['https://queue.amazonaws.com/123456789012/q', 'us-east-1'],
    ['https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q', 'us-gov-west-1'],
    ['https://vpce-0a1b2c-3d4e.sqs.eu-central-1.vpce.amazonaws.com/123456789012/q', 'eu-central-1'],
    ['http://127.0.0.1:9324/000000000000/q', 'sa-east-1'],
    ['not a url', 'sa-east-1'],
  ])('reads the region of %s', (url, region) => {
    expect(sqsRegionOf(url, 'sa-east-1')).toBe(region);
  });
});
