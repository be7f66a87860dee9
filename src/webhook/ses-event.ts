// Parses the SES event inside an SNS notification (the Message string, JSON a second time) into a
// typed event. Identity notifications name their type in `notificationType`, configuration-set
// event publishing in `eventType`; the bodies are otherwise the same. Pure; unknown fields are ignored.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { WebhookError } from './errors.js';
import { describeIssues } from './sns-envelope.js';

const address = z.string().min(1);
// A null in an optional field means the same as its absence (SES itself sends complaintSubType:
// null; other producers and relays of these events may write null anywhere), so a null never costs
// the whole event and its recipients. Output types stay `string | undefined`.
const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((value) => value ?? []);

const recipient = z.object({
  emailAddress: address,
  action: optionalText,
  status: optionalText,
  diagnosticCode: optionalText,
});

const mailSchema = z.object({
  messageId: z.string().min(1),
  timestamp: optionalText,
  source: optionalText,
  destination: list(z.string()),
});

const bounceSchema = z.object({
  bounceType: z.string().min(1),
  bounceSubType: z.string().min(1),
  bouncedRecipients: z.array(recipient),
  timestamp: optionalText,
  feedbackId: optionalText,
});

const complaintSchema = z.object({
  complainedRecipients: z.array(recipient.pick({ emailAddress: true })),
  complaintFeedbackType: optionalText,
  // null or "OnAccountSuppressionList" (SES accepted the message but did not send it).
  complaintSubType: optionalText,
  timestamp: optionalText,
  feedbackId: optionalText,
});

const deliverySchema = z.object({ recipients: z.array(address), timestamp: optionalText });

const delaySchema = z.object({
  delayType: optionalText,
  delayedRecipients: list(recipient),
  timestamp: optionalText,
});

/** Event-publishing types whose body the policy does not read; they only feed the daily counters. */
export const COUNTED_ONLY_TYPES = [
  'Send',
  'Reject',
  'Open',
  'Click',
  'Rendering Failure',
  'Subscription',
] as const;
type CountedOnlyType = (typeof COUNTED_ONLY_TYPES)[number];

export type SesMail = z.infer<typeof mailSchema>;
export type SesBounce = z.infer<typeof bounceSchema>;
export type SesComplaint = z.infer<typeof complaintSchema>;
export type SesBouncedRecipient = z.infer<typeof recipient>;

export type SesEvent =
  | { type: 'Bounce'; mail: SesMail; bounce: SesBounce }
  | { type: 'Complaint'; mail: SesMail; complaint: SesComplaint }
  | { type: 'Delivery'; mail: SesMail; delivery: z.infer<typeof deliverySchema> }
  | { type: 'DeliveryDelay'; mail: SesMail; deliveryDelay: z.infer<typeof delaySchema> }
  | { type: CountedOnlyType; mail: SesMail }
  /** Anything else, e.g. AmazonSnsSubscriptionSucceeded, which SES sends when a topic is attached. */
  | { type: 'Other'; name: string };

const bodySchemas = {
  Bounce: z.object({ mail: mailSchema, bounce: bounceSchema }),
  Complaint: z.object({ mail: mailSchema, complaint: complaintSchema }),
  Delivery: z.object({ mail: mailSchema, delivery: deliverySchema }),
  DeliveryDelay: z.object({ mail: mailSchema, deliveryDelay: delaySchema }),
  countedOnly: z.object({ mail: mailSchema }),
};

export function parseSesEvent(messageText: string): SesEvent {
  let json: unknown;
  try {
    json = JSON.parse(messageText);
  } catch {
    throw new WebhookError('SES_EVENT_MALFORMED', 'the notification Message is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebhookError('SES_EVENT_MALFORMED', 'the notification Message is not a JSON object');
  }
  const fields = json as { notificationType?: unknown; eventType?: unknown };
  const name = fields.notificationType ?? fields.eventType;
  if (typeof name !== 'string') {
    throw new WebhookError('SES_EVENT_MALFORMED', 'the Message has neither notificationType nor eventType');
  }
  switch (name) {
    case 'Bounce':
      return { type: name, ...parseBody(bodySchemas.Bounce, json, name) };
    case 'Complaint':
      return { type: name, ...parseBody(bodySchemas.Complaint, json, name) };
    case 'Delivery':
      return { type: name, ...parseBody(bodySchemas.Delivery, json, name) };
    case 'DeliveryDelay':
      return { type: name, ...parseBody(bodySchemas.DeliveryDelay, json, name) };
    default:
      if ((COUNTED_ONLY_TYPES as readonly string[]).includes(name)) {
        return { type: name as CountedOnlyType, ...parseBody(bodySchemas.countedOnly, json, name) };
      }
      return { type: 'Other', name };
  }
}

function parseBody<T>(schema: z.ZodType<T>, json: unknown, name: string): T {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new WebhookError('SES_EVENT_MALFORMED', `malformed ${name} event: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** The addr-spec of a recipient field; reports occasionally carry a display name around it. */
export function bareAddress(value: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(value);
  return (angle?.[1] ?? value).trim();
}

/**
 * The identity of the SES event itself, by which it is applied once: a bounce or complaint by its
 * feedbackId, a delivery by message, time and recipients. One event can arrive in two SNS messages
 * with different MessageIds (an identity's notification topic and a configuration set's event
 * destination, or over HTTP and over SQS); counting it twice would double the bounce and complaint
 * rates and suppress after fewer soft bounces. Other events keep the id of the message carrying them.
 */
export function sesEventKey(event: SesEvent, carrierId: string): string {
  if (event.type === 'Bounce' && event.bounce.feedbackId) return `bounce:${event.bounce.feedbackId}`;
  if (event.type === 'Complaint' && event.complaint.feedbackId) {
    return `complaint:${event.complaint.feedbackId}`;
  }
  if (event.type === 'Delivery') {
    const recipients = event.delivery.recipients.map((recipient) => recipient.toLowerCase()).sort();
    const identity = [event.mail.messageId, event.delivery.timestamp ?? '', ...recipients].join('\n');
    return `delivery:${createHash('sha1').update(identity).digest('hex')}`;
  }
  return carrierId;
}
