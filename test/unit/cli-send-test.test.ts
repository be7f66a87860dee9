import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { defaultSender, smtpTarget, unsupportedListener } from '../../src/cli/send-test-command.js';
import { judge, type ExpectedEvent } from '../../src/cli/send-test-outcome.js';
import type { TraceEvent } from '../../src/trace/trace-store.js';

const at = 1_700_000_000_000;
const accepted: TraceEvent = {
  type: 'accepted',
  at,
  clientIp: '127.0.0.1',
  from: 'a@example.com',
  recipients: ['success@simulator.amazonses.com'],
  size: 100,
  messageId: 'm@x',
};
const sent: TraceEvent = {
  type: 'ses-call',
  at,
  outcome: 'sent',
  sesMessageId: 'S1',
  recipients: 1,
  chunk: 0,
};
const sesEvent = (event: string, detail?: string): TraceEvent => ({
  type: 'ses-event',
  at,
  event,
  sesMessageId: 'S1',
  recipients: ['x@example.com'],
  ...(detail ? { detail } : {}),
});

describe('send-test verdict', () => {
  it.each<[string, TraceEvent[], ExpectedEvent, ReturnType<typeof judge>]>([
    ['nothing yet', [], 'Delivery', { state: 'waiting' }],
    ['sent, no event yet', [accepted, sent], 'Delivery', { state: 'waiting' }],
    ['the delivery', [accepted, sent, sesEvent('Delivery')], 'Delivery', { state: 'passed' }],
    ['a delay first', [sent, sesEvent('DeliveryDelay')], 'Delivery', { state: 'waiting' }],
    ['the bounce', [sent, sesEvent('Bounce', 'Permanent/General')], 'Bounce', { state: 'passed' }],
    [
      'a bounce instead of a delivery',
      [sent, sesEvent('Bounce', 'Permanent/General')],
      'Delivery',
      { state: 'failed', reason: 'SES reported Bounce (Permanent/General), not Delivery' },
    ],
    [
      'a delivery instead of a bounce',
      [sent, sesEvent('Delivery')],
      'Bounce',
      { state: 'failed', reason: 'SES reported Delivery, not Bounce' },
    ],
    ['the delivery before a complaint', [sent, sesEvent('Delivery')], 'Complaint', { state: 'waiting' }],
    ['the complaint', [sent, sesEvent('Delivery'), sesEvent('Complaint')], 'Complaint', { state: 'passed' }],
    [
      'a failed job',
      [accepted, { type: 'failed', at, reason: 'MessageRejected: not verified' }],
      'Delivery',
      { state: 'failed', reason: 'the message failed: MessageRejected: not verified' },
    ],
  ])('%s', (_name, events, expected, verdict) => {
    expect(judge(events, expected)).toEqual(verdict);
  });
});

describe('send-test defaults', () => {
  it('sends from the first allowed sender, a test address in an @domain entry, or SMTP_NAME', () => {
    expect(defaultSender(parseConfig({ SMTP_ALLOWED_SENDERS: 'app@example.com,@example.org' }))).toBe(
      'app@example.com',
    );
    expect(defaultSender(parseConfig({ SMTP_ALLOWED_SENDERS: '@example.org' }))).toBe(
      'ses-relay-test@example.org',
    );
    expect(defaultSender(parseConfig({ SMTP_NAME: 'relay.example.net' }))).toBe(
      'ses-relay-test@relay.example.net',
    );
  });

  it('reaches a wildcard listener on loopback', () => {
    expect(smtpTarget(parseConfig({ SMTP_HOST: '0.0.0.0', SMTP_PORT: '2525' }))).toEqual({
      host: '127.0.0.1',
      port: 2525,
    });
    expect(smtpTarget(parseConfig({ SMTP_HOST: '::', SMTP_PORT: '25' }))).toEqual({ host: '::1', port: 25 });
    expect(smtpTarget(parseConfig({ SMTP_HOST: '10.0.0.5' })).host).toBe('10.0.0.5');
  });

  it('says up front when the listener wants AUTH or TLS it cannot give', () => {
    expect(unsupportedListener(parseConfig({}))).toBeUndefined();
    const settings = { ...parseConfig({}), SMTP_AUTH_REQUIRED: true } as unknown as ReturnType<
      typeof parseConfig
    >;
    expect(unsupportedListener(settings)).toContain('SMTP_AUTH_REQUIRED');
  });
});
