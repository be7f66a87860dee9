// Turns an applied SES event into a timeline entry of the message it is about (found through the
// SES MessageId the worker recorded when SES accepted the chunk).
import type { SesEvent } from '../webhook/ses-event.js';
import type { TraceStore } from './trace-store.js';

export function eventRecipients(event: SesEvent): string[] {
  if (event.type === 'Bounce') return event.bounce.bouncedRecipients.map((r) => r.emailAddress);
  if (event.type === 'Complaint') return event.complaint.complainedRecipients.map((r) => r.emailAddress);
  if (event.type === 'Delivery') return event.delivery.recipients;
  if (event.type === 'DeliveryDelay') return event.deliveryDelay.delayedRecipients.map((r) => r.emailAddress);
  return [];
}

function eventDetail(event: SesEvent): string | undefined {
  if (event.type === 'Bounce') return `${event.bounce.bounceType}/${event.bounce.bounceSubType}`;
  if (event.type === 'Complaint') return event.complaint.complaintFeedbackType ?? undefined;
  if (event.type === 'DeliveryDelay') return event.deliveryDelay.delayType;
  return undefined;
}

function eventTimestamp(event: Exclude<SesEvent, { type: 'Other' }>): string | undefined {
  if (event.type === 'Bounce') return event.bounce.timestamp;
  if (event.type === 'Complaint') return event.complaint.timestamp;
  if (event.type === 'Delivery') return event.delivery.timestamp;
  if (event.type === 'DeliveryDelay') return event.deliveryDelay.timestamp;
  return event.mail.timestamp;
}

/**
 * When SES says the event happened; the arrival time when it gives none that parses. Feedback that
 * waited in SQS or in SNS retries arrives late, and the timeline shows when the mailbox answered.
 */
export function eventTime(event: Exclude<SesEvent, { type: 'Other' }>, now = Date.now()): number {
  const stated = Date.parse(eventTimestamp(event) ?? '');
  return Number.isFinite(stated) ? stated : now;
}

export async function traceSesEvent(trace: TraceStore, event: SesEvent): Promise<void> {
  if (event.type === 'Other') return;
  const detail = eventDetail(event);
  await trace.recordSesEvent(event.mail.messageId, {
    type: 'ses-event',
    at: eventTime(event),
    event: event.type,
    recipients: eventRecipients(event),
    ...(detail ? { detail } : {}),
  });
}
