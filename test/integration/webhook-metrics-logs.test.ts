// What the HTTP role reports about SNS posts: ses_relay_sns_notifications_total tells refusals apart
// by their code (all of these answer 403), and an applied event is logged at info like a duplicate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import {
  createTestCertificate,
  createSnsSigner,
  sesFixture,
  SnsSigner,
  snsHeaders,
  TEST_TOPIC_ARN,
} from '../helpers/sns-signer.js';
import type { SnsMessage } from '../../src/webhook/sns-envelope.js';

let gw: TestGateway;
let signer: SnsSigner;

beforeAll(async () => {
  signer = await createSnsSigner();
  gw = await startGateway(
    { ROLES: 'http', SNS_TOPIC_ARNS: TEST_TOPIC_ARN, LOG_LEVEL: 'info' },
    { fetchSnsCertificate: signer.fetchCertificate },
  );
});
afterAll(async () => {
  await gw.stop();
});

async function post(message: SnsMessage): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.httpPort}/sns`, {
    method: 'POST',
    headers: snsHeaders(message),
    body: JSON.stringify(message),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The counter's non-zero series, as `type result code` → value. */
async function snsSeries(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
  const series: Record<string, number> = {};
  for (const match of text.matchAll(/^ses_relay_sns_notifications_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Number(match[2]) > 0) series[`${labels.type} ${labels.result} ${labels.code}`] = Number(match[2]);
  }
  return series;
}

describe('SNS webhook metrics and logs', () => {
  it('counts 403s under the code that caused each, and successes under code none', async () => {
    const delivery = signer.notification(sesFixture('delivery'));
    expect(await post(delivery)).toBe(200);
    expect(await post(delivery)).toBe(200);
    const forger = new SnsSigner(await createTestCertificate(), signer.certUrl);
    expect(await post(forger.notification(sesFixture('delivery')))).toBe(403);
    const foreign = signer.notification(sesFixture('delivery'), {
      topicArn: 'arn:aws:sns:us-east-1:999999999999:other',
    });
    expect(await post(foreign)).toBe(403);

    expect(await snsSeries()).toEqual({
      'Notification 200 none': 2,
      'Notification 403 SNS_SIGNATURE_INVALID': 1,
      'Notification 403 SNS_TOPIC_NOT_ALLOWED': 1,
    });
  });

  it('logs an applied event at info, as it does a duplicate', async () => {
    const delivery = signer.notification(sesFixture('delivery'));
    expect(await post(delivery)).toBe(200);
    expect(await post(delivery)).toBe(200);
    const lines = gw.logs.filter((line) => line.snsMessageId === delivery.MessageId);
    expect(lines.map((line) => [line.msg, line.level])).toEqual([
      ['sns.applied', 'info'],
      ['sns.duplicate', 'info'],
    ]);
  });
});
