// What the webhook must take from SNS: an envelope over 256 KiB whose Message is within SNS's
// 256 KiB (JSON escaping grows it), on both doors, and SES events with null in optional fields.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { SNS_BODY_LIMIT_BYTES } from '../../src/webhook/router.js';
import { useWebhookServer } from '../helpers/webhook-fixture.js';
import { sesFixture, snsHeaders } from '../helpers/sns-signer.js';
import type { SnsMessage } from '../../src/webhook/sns-envelope.js';

const SNS_MESSAGE_LIMIT_BYTES = 256 * 1024;

const fx = useWebhookServer('webhook-limits');

/** A permanent bounce whose original headers fill the Message to just under SNS's limit. */
function largeBounce(address: string): Record<string, unknown> {
  const event = sesFixture('bounce-permanent') as {
    bounce: { bouncedRecipients: { emailAddress: string }[] };
    mail: Record<string, unknown>;
  };
  event.bounce.bouncedRecipients = [{ emailAddress: address }];
  const header = { name: 'To', value: '"Jane \\"JD\\" Doe" <jane@example.com>' };
  const size = JSON.stringify(header).length + 1;
  const count = Math.floor((SNS_MESSAGE_LIMIT_BYTES - JSON.stringify(event).length - 100) / size);
  event.mail.headers = Array.from({ length: count }, () => header);
  return event;
}

/** Posts without a Content-Length (chunked), which the express router takes. */
function postChunked(message: SnsMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${fx.server.url}/sns`, { method: 'POST', headers: snsHeaders(message) });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const body = Buffer.from(JSON.stringify(message));
    req.write(body.subarray(0, 1000));
    req.end(body.subarray(1000));
  });
}

describe('SNS webhook input', () => {
  it('applies an envelope over 256 KiB whose Message is within SNS’s 256 KiB, on both doors', async () => {
    const plain = fx.signer.notification(largeBounce('plain@example.com'));
    expect(Buffer.byteLength(plain.Message)).toBeLessThan(SNS_MESSAGE_LIMIT_BYTES);
    expect(Buffer.byteLength(JSON.stringify(plain))).toBeGreaterThan(SNS_MESSAGE_LIMIT_BYTES + 40_000);
    expect(await fx.server.post(plain)).toEqual({ status: 200, json: { status: 'applied' } });
    expect(fx.server.fastAnswers).toBe(1);

    const chunked = fx.signer.notification(largeBounce('chunked@example.com'));
    expect(await postChunked(chunked)).toBe(200);
    expect(fx.server.sink.addresses()).toEqual(['plain@example.com', 'chunked@example.com']);
  });

  it('answers 413 only above 512 KiB', async () => {
    expect(SNS_BODY_LIMIT_BYTES).toBe(512 * 1024);
    const message = fx.signer.notification({ ...sesFixture('delivery'), padding: 'x'.repeat(512 * 1024) });
    expect(await fx.server.post(message)).toEqual({
      status: 413,
      json: { error: { code: 'SNS_BODY_TOO_LARGE', message: `body over ${512 * 1024} bytes` } },
    });
  });

  it('applies a bounce and a complaint whose optional fields are null, for every recipient', async () => {
    const bounce = sesFixture('bounce-permanent') as { bounce: Record<string, unknown>; mail: object };
    bounce.bounce.bouncedRecipients = [
      { emailAddress: 'a@example.com', action: null, status: null, diagnosticCode: null },
      { emailAddress: 'b@example.com', action: 'failed', status: '5.1.1', diagnosticCode: null },
    ];
    bounce.bounce.reportingMTA = null;
    const complaint = sesFixture('complaint-no-feedback') as { complaint: Record<string, unknown> };
    complaint.complaint.complaintFeedbackType = null;
    complaint.complaint.userAgent = null;
    for (const event of [bounce, complaint]) {
      expect(await fx.server.post(fx.signer.notification(event))).toEqual({
        status: 200,
        json: { status: 'applied' },
      });
    }
    expect(fx.server.sink.suppressed).toEqual([
      { address: 'a@example.com', details: expect.objectContaining({ reason: 'bounce' }) },
      { address: 'b@example.com', details: expect.objectContaining({ reason: 'bounce' }) },
      {
        address: 'richard@example.com',
        details: expect.objectContaining({ reason: 'complaint', complaintFeedbackType: undefined }),
      },
    ]);
    expect(await fx.todayStats()).toMatchObject({ complained: 1, 'complaint:none': 1 });
  });
});
