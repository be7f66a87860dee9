import { describe, expect, it } from 'vitest';
import { SNS_ANSWER_CODES, snsAnswerCode } from '../../src/metrics/label-values.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { WEBHOOK_ERRORS } from '../../src/webhook/errors.js';

describe('SNS notification metric labels', () => {
  it('knows every webhook error code, INTERNAL and none, and nothing else', () => {
    expect([...SNS_ANSWER_CODES].sort()).toEqual(['INTERNAL', 'none', ...Object.keys(WEBHOOK_ERRORS)].sort());
    expect(snsAnswerCode('SNS_SIGNATURE_INVALID')).toBe('SNS_SIGNATURE_INVALID');
    expect(snsAnswerCode(undefined)).toBe('none');
    // The body is the gateway's own, but a label value must never come from anywhere unbounded.
    expect(snsAnswerCode('SOMETHING_NEW')).toBe('other');
  });

  it('starts every code of a Notification at 0, under the status that code answers', async () => {
    const metrics = createMetrics();
    metrics.enable('http');
    const [metric] = (await metrics.registry.getMetricsAsJSON()).filter(
      (m) => m.name === 'ses_relay_sns_notifications_total',
    );
    const series = metric!.values.map((v) => ({ ...v.labels, value: v.value }));
    expect(series).toContainEqual({ type: 'Notification', result: '200', code: 'none', value: 0 });
    expect(series).toContainEqual({ type: 'Notification', result: '500', code: 'INTERNAL', value: 0 });
    for (const [code, spec] of Object.entries(WEBHOOK_ERRORS)) {
      expect(series).toContainEqual({ type: 'Notification', result: String(spec.http), code, value: 0 });
    }
    expect(series).toHaveLength(SNS_ANSWER_CODES.length);
  });
});
