// Parses an SNS HTTP(S) delivery body into a typed envelope, before any trust is given to it. Raw
// message delivery is refused here: without the envelope there is no signature to check.
import { z } from 'zod';
import { WebhookError } from './errors.js';

export const SNS_MESSAGE_TYPES = [
  'SubscriptionConfirmation',
  'Notification',
  'UnsubscribeConfirmation',
] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

/** Node's IncomingHttpHeaders fits; keys are lower case. */
export type SnsHeaders = Readonly<Record<string, string | string[] | undefined>>;

// MessageId ends up in Redis keys; SNS uses UUIDs, so anything else is refused before it gets there.
const messageId = z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'expected a UUID');
const text = z.string().min(1);

const common = {
  MessageId: messageId,
  TopicArn: text,
  Message: z.string(),
  Timestamp: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO timestamp'),
  SignatureVersion: z.string(),
  Signature: text,
  SigningCertURL: text,
};

const confirmation = { ...common, Token: text, SubscribeURL: text };

const envelopeSchema = z.discriminatedUnion('Type', [
  z.object({
    Type: z.literal('Notification'),
    ...common,
    // SNS omits Subject when none was published; the Lambda form sends null. Both mean "not signed".
    Subject: z
      .string()
      .nullish()
      .transform((value) => value ?? undefined)
      .optional(),
    UnsubscribeURL: z.string().optional(),
  }),
  z.object({ Type: z.literal('SubscriptionConfirmation'), ...confirmation }),
  z.object({ Type: z.literal('UnsubscribeConfirmation'), ...confirmation }),
]);

export type SnsMessage = z.infer<typeof envelopeSchema>;
export type SnsNotification = Extract<SnsMessage, { Type: 'Notification' }>;
export type SnsConfirmation = Exclude<SnsMessage, SnsNotification>;

export function headerValue(headers: SnsHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function parseSnsEnvelope(bodyText: string, headers: SnsHeaders = {}): SnsMessage {
  if (headerValue(headers, 'x-amz-sns-rawdelivery')?.toLowerCase() === 'true') {
    throw new WebhookError(
      'SNS_RAW_DELIVERY',
      'raw message delivery is enabled on this subscription; raw messages are unsigned, turn RawMessageDelivery off',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    throw new WebhookError('SNS_MALFORMED', 'the body is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebhookError('SNS_MALFORMED', 'the body is not a JSON object');
  }
  if (!('Signature' in json)) {
    // A bare SES event here means raw delivery with the header stripped (e.g. by a proxy).
    throw new WebhookError(
      'SNS_RAW_DELIVERY',
      'the message has no Signature, so it cannot be authenticated; is RawMessageDelivery on?',
    );
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw new WebhookError('SNS_MALFORMED', `not an SNS message: ${describeIssues(parsed.error)}`);
  }
  const declared = headerValue(headers, 'x-amz-sns-message-type');
  if (declared !== undefined && declared !== parsed.data.Type) {
    throw new WebhookError('SNS_MALFORMED', `x-amz-sns-message-type ${declared} does not match Type`);
  }
  return parsed.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
