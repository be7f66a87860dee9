// The SQS poller when feedback cannot be stored (Redis failing, a certificate that cannot be
// fetched, SNS_TOPIC_ARNS empty): every receive counts toward the redrive policy's maxReceiveCount,
// so it waits before receiving again instead of using those up at the visibility timeout's pace.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createSqsPoller, type SqsPoller, type SqsPollerOptions } from '../../src/webhook/sqs-poller.js';
import type { SnsResult } from '../../src/webhook/webhook.js';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.js';
import { startGateway, TEST_CREDENTIALS, type LogLine } from '../helpers/gateway.js';
import { createSnsSigner, sesFixture } from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

const APPLIED: SnsResult = { status: 200, body: { status: 'applied' } };
const UNAVAILABLE: SnsResult = {
  status: 503,
  body: { error: { code: 'FEEDBACK_UNAVAILABLE', message: 'feedback could not be stored; retry later' } },
};
const MALFORMED: SnsResult = {
  status: 400,
  body: { error: { code: 'SES_EVENT_MALFORMED', message: 'the notification Message is not JSON' } },
};
const ENVELOPE = JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:1:t' });

describe('SQS poller while feedback cannot be stored', () => {
  let sqs: FakeSqs | undefined;
  let poller: SqsPoller | undefined;
  afterEach(async () => {
    await poller?.stop();
    await sqs?.stop();
    poller = undefined;
    sqs = undefined;
  });

  async function start(handle: () => Promise<SnsResult>, options: Partial<SqsPollerOptions> = {}) {
    sqs = await startFakeSqs();
    // Messages come back almost at once: only the poller's own pause spaces the receives.
    sqs.visibilityMs = 20;
    const logs: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n'))
          if (line) logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    poller = createSqsPoller({
      queueUrl: sqs.queueUrl,
      region: 'us-east-1',
      endpoint: sqs.url,
      credentials: TEST_CREDENTIALS,
      logger: createLogger('debug', sink),
      webhook: {
        handleSnsBody: handle,
        applySesEvent: () => (
          logs.push({ level: 'test', msg: 'test.unavailable' }),
          Promise.resolve(UNAVAILABLE)
        ),
      },
      timing: { waitTimeSeconds: 1, receiveTimeoutMs: 1500, errorBackoffMs: 200, errorBackoffMaxMs: 400 },
      ...options,
    });
    return { logs, sqs, poller };
  }

  it('waits before receiving again after a batch it could not store, doubling, until one is applied', async () => {
    const calls: number[] = [];
    const { logs, sqs, poller } = await start(() => {
      calls.push(performance.now());
      if (calls.length === 2) return Promise.reject(new Error('READONLY You can’t write against a replica'));
      return Promise.resolve(calls.length <= 3 ? UNAVAILABLE : APPLIED);
    });
    const id = sqs.send(ENVELOPE);
    poller.start();
    await waitFor(() => sqs.deleted.includes(id), { what: 'the message to be applied at last' });

    expect(calls).toHaveLength(4);
    const gaps = calls.slice(1).map((at, i) => at - calls[i]!);
    // 200 ms, then 400 ms (the cap), then 400 ms; not the 20 ms visibility timeout.
    expect(gaps[0]).toBeGreaterThanOrEqual(195);
    expect(gaps[1]).toBeGreaterThanOrEqual(395);
    expect(gaps[2]).toBeGreaterThanOrEqual(395);
    expect(sqs.messages).toHaveLength(0);
    const pauses = logs.filter((l) => l.msg === 'sqs.apply_failed');
    expect(pauses.map((l) => [l.level, l.left, l.failures, l.retryInMs])).toEqual([
      ['warn', 1, 1, 200],
      ['warn', 1, 2, 400],
      ['warn', 1, 3, 400],
    ]);
    // The message an error left behind is named, as the ones answered 503 are.
    expect(logs.find((l) => l.msg === 'sqs.handle_failed')).toMatchObject({
      level: 'error',
      sqsMessageId: id,
    });
    expect(logs.filter((l) => l.msg === 'sqs.message_left')).toHaveLength(2);
  });

  it('keeps its pace for messages it refuses (4xx): waiting would not change their verdict', async () => {
    let handled = 0;
    const { logs, sqs, poller } = await start(() => (handled++, Promise.resolve(MALFORMED)), {
      timing: {
        waitTimeSeconds: 1,
        receiveTimeoutMs: 1500,
        errorBackoffMs: 60_000,
        errorBackoffMaxMs: 60_000,
      },
    });
    const id = sqs.send(ENVELOPE);
    poller.start();
    // Counted by the poller's handler, not by the fake SQS: its count rises before the answer arrives.
    await waitFor(() => handled >= 3, {
      what: 'the refused message to be received again at the visibility timeout',
    });
    expect(sqs.messages.find((m) => m.id === id)?.receiveCount).toBeGreaterThanOrEqual(3);
    expect(logs.some((l) => l.msg === 'sqs.apply_failed')).toBe(false);
  });

  it('does not pause after a batch where another message was applied', async () => {
    const { logs, sqs, poller } = await start(() => Promise.resolve(APPLIED), {
      rawMessages: true,
      timing: { waitTimeSeconds: 1, errorBackoffMs: 60_000, errorBackoffMaxMs: 60_000 },
    });
    // One raw event that cannot be stored, next to an envelope that is applied in the same batch.
    const stuck = sqs.send('{"eventType":"Send"}');
    const applied = sqs.send(ENVELOPE);
    poller.start();
    const seen = () => logs.filter((l) => l.msg === 'test.unavailable').length;
    await waitFor(() => sqs.deleted.includes(applied) && seen() >= 2, {
      what: 'the failing message to come back after the visibility timeout',
    });
    expect(sqs.deleted).not.toContain(stuck);
    // Received again without a pause; alone in its batch the second time, it is followed by one.
    const firstPause = logs.findIndex((l) => l.msg === 'sqs.apply_failed');
    const second = logs.filter((l) => l.msg === 'test.unavailable')[1]!;
    expect(firstPause === -1 || firstPause > logs.indexOf(second)).toBe(true);
  });

  it('stops at once while it waits', async () => {
    const { logs, sqs, poller } = await start(() => Promise.resolve(UNAVAILABLE), {
      timing: { waitTimeSeconds: 1, errorBackoffMs: 60_000, errorBackoffMaxMs: 60_000 },
    });
    sqs.send(ENVELOPE);
    poller.start();
    await waitFor(() => logs.find((l) => l.msg === 'sqs.apply_failed'), { what: 'the pause' });
    const startedAt = performance.now();
    await poller.stop();
    expect(performance.now() - startedAt).toBeLessThan(1000);
  });
});

describe('a worker polling SQS with SNS_TOPIC_ARNS empty', () => {
  it('says at start-up that no SNS message will be applied', async () => {
    const sqs = await startFakeSqs();
    const signer = await createSnsSigner();
    const gw = await startGateway(
      { ROLES: 'worker', SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.url },
      { fetchSnsCertificate: signer.fetchCertificate },
    );
    try {
      const id = sqs.send(JSON.stringify(signer.notification(sesFixture('bounce-permanent'))));
      await waitFor(() => gw.logs.find((l) => l.msg === 'sqs.message_left' && l.sqsMessageId === id), {
        what: 'the envelope to be left in the queue',
      });
      const warning = gw.logs.find((l) => String(l.msg).startsWith('SNS_TOPIC_ARNS is empty'));
      expect(warning).toMatchObject({ level: 'warn', component: 'sqs' });
      expect(warning?.msg).toContain('SQS leaves them in the queue');
      expect(sqs.deleted).not.toContain(id);
    } finally {
      await gw.stop();
      await sqs.stop();
    }
  });
});
