import { describe, expect, it } from 'vitest';
import { WEBHOOK_ERRORS, WebhookError, type WebhookErrorCode } from '../../src/webhook/errors.js';

describe('webhook error catalog', () => {
  const entries = Object.entries(WEBHOOK_ERRORS) as [
    WebhookErrorCode,
    (typeof WEBHOOK_ERRORS)[WebhookErrorCode],
  ][];

  it('asks SNS to retry exactly when the error is retryable (5xx), and documents every code', () => {
    for (const [code, spec] of entries) {
      expect(`${code} ${spec.http >= 500}`).toBe(`${code} ${spec.retryable}`);
      expect(spec.http >= 400 && spec.http < 600).toBe(true);
      expect(spec.doc.length).toBeGreaterThan(10);
    }
  });

  it('carries code, status and retryable on the error', () => {
    const err = new WebhookError('FEEDBACK_UNAVAILABLE', 'redis down', { cause: new Error('ECONNREFUSED') });
    expect(err).toMatchObject({
      code: 'FEEDBACK_UNAVAILABLE',
      status: 503,
      retryable: true,
      message: 'redis down',
    });
    expect((err.cause as Error).message).toBe('ECONNREFUSED');
  });
});
