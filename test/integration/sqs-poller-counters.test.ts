// The SQS poller's counters: messages received, applied (and deleted), failed (left in the queue),
// and failed ReceiveMessage calls, as a worker with SQS_QUEUE_URL exports them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { createSqsPoller, type SqsPollerEvent } from '../../src/webhook/sqs-poller.js';
import { startFakeSqs, type FakeSqs } from '../helpers/fake-sqs.js';
import { startGateway, TEST_CREDENTIALS, type TestGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { createSnsSigner, sesFixture, TEST_TOPIC_ARN, type SnsSigner } from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';

function sample(metrics: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : undefined;
}

describe('SQS poller counters', () => {
  let sqs: FakeSqs;
  let signer: SnsSigner;
  let gw: TestGateway;
  beforeAll(async () => {
    sqs = await startFakeSqs();
    signer = await createSnsSigner();
    gw = await startGateway(
      { ROLES: 'worker', SQS_QUEUE_URL: sqs.queueUrl, SQS_ENDPOINT: sqs.url, SNS_TOPIC_ARNS: TEST_TOPIC_ARN },
      { fetchSnsCertificate: signer.fetchCertificate },
    );
  });
  afterAll(async () => {
    await gw.stop();
    await sqs.stop();
  });

  it('counts received, applied and failed messages', async () => {
    const before = await gw.app.metrics.render();
    expect(sample(before, 'ses_relay_sqs_messages_applied_total')).toBe(0);
    const applied = sqs.send(JSON.stringify(signer.notification(sesFixture('bounce-permanent'))));
    const junk = sqs.send('this is not JSON');
    await waitFor(
      () =>
        sqs.deleted.includes(applied) && (sqs.messages.find((m) => m.id === junk)?.receiveCount ?? 0) >= 1,
      { timeoutMs: 15_000, what: 'both messages to be handled' },
    );
    const metrics = await waitFor(async () => {
      const text = await gw.app.metrics.render();
      return (sample(text, 'ses_relay_sqs_messages_failed_total') ?? 0) >= 1 ? text : undefined;
    });
    expect(sample(metrics, 'ses_relay_sqs_messages_applied_total')).toBe(1);
    expect(sample(metrics, 'ses_relay_sqs_messages_received_total')).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, 'ses_relay_sqs_receive_errors_total')).toBe(0);
  });

  it('counts a failed ReceiveMessage call', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const events: SqsPollerEvent[] = [];
    const poller = createSqsPoller({
      queueUrl: `${closed}/123456789012/ses-feedback`,
      region: 'us-east-1',
      endpoint: closed,
      credentials: TEST_CREDENTIALS,
      webhook: {
        handleSnsBody: () => Promise.reject(new Error('not reached')),
        applySesEvent: () => Promise.reject(new Error('not reached')),
      },
      logger: createLogger('silent'),
      observe: (event) => events.push(event),
    });
    poller.start();
    try {
      await waitFor(() => events.includes('receive_error'), { what: 'the refused connection to count' });
    } finally {
      await poller.stop();
    }
  });
});
