import { describe, expect, it } from 'vitest';
import { decideFeedback, DEFAULT_FEEDBACK_POLICY } from '../../src/webhook/feedback-policy.js';
import { parseSesEvent, sesEventKey } from '../../src/webhook/ses-event.js';

const RECEIVED_AT = Date.parse('2026-11-22T12:00:00Z');
const nullMail = { messageId: 'ses-1', timestamp: null, source: null, destination: null };

describe('SES events with null in optional fields', () => {
  it('reads a bounce whose optional fields are null as if they were absent', () => {
    const event = parseSesEvent(
      JSON.stringify({
        notificationType: 'Bounce',
        mail: nullMail,
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          timestamp: null,
          feedbackId: null,
          reportingMTA: null,
          bouncedRecipients: [
            { emailAddress: 'jane@example.com', action: null, status: null, diagnosticCode: null },
          ],
        },
      }),
    );
    expect(event).toEqual({
      type: 'Bounce',
      mail: { messageId: 'ses-1', destination: [] },
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: 'jane@example.com' }],
      },
    });
    expect(sesEventKey(event, 'sns-1')).toBe('sns-1');
    const [action] = decideFeedback(event, DEFAULT_FEEDBACK_POLICY, RECEIVED_AT);
    expect(action).toEqual({
      kind: 'suppress',
      address: 'jane@example.com',
      mirror: false,
      details: {
        reason: 'bounce',
        bounceType: 'Permanent',
        bounceSubType: 'General',
        sesMessageId: 'ses-1',
        at: RECEIVED_AT,
      },
    });
  });

  it('suppresses on a complaint whose feedback type is null, counting it as having none', () => {
    const event = parseSesEvent(
      JSON.stringify({
        notificationType: 'Complaint',
        mail: nullMail,
        complaint: {
          complainedRecipients: [{ emailAddress: 'richard@example.com' }],
          complaintFeedbackType: null,
          complaintSubType: null,
          timestamp: null,
          feedbackId: 'fb-2',
        },
      }),
    );
    const actions = decideFeedback(event, DEFAULT_FEEDBACK_POLICY, RECEIVED_AT);
    expect(actions).toEqual([
      {
        kind: 'suppress',
        address: 'richard@example.com',
        mirror: false,
        details: { reason: 'complaint', sesMessageId: 'ses-1', feedbackId: 'fb-2', at: RECEIVED_AT },
      },
      { kind: 'count', field: 'complained', by: 1 },
      { kind: 'count', field: 'complaint:none', by: 1 },
    ]);
  });

  it('reads deliveries and delays with null timestamps, types and recipient lists', () => {
    const delivery = parseSesEvent(
      JSON.stringify({
        eventType: 'Delivery',
        mail: nullMail,
        delivery: { recipients: ['a@example.com'], timestamp: null },
      }),
    );
    expect(delivery).toMatchObject({ type: 'Delivery', delivery: { recipients: ['a@example.com'] } });
    const delay = parseSesEvent(
      JSON.stringify({
        eventType: 'DeliveryDelay',
        mail: { ...nullMail, destination: ['a@example.com'] },
        deliveryDelay: { delayType: null, delayedRecipients: null, timestamp: null },
      }),
    );
    expect(decideFeedback(delay, DEFAULT_FEEDBACK_POLICY, RECEIVED_AT)).toEqual([
      { kind: 'count', field: 'delayed', by: 1 },
      { kind: 'count', field: 'delay:Undetermined', by: 1 },
    ]);
  });
});
