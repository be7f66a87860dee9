// The webhook's refusals and failures, each with a stable code and the HTTP status SNS receives.
// SNS retries only on statuses outside 200–499, so "retryable" and "5xx" are the same thing here: a
// 4xx is a verdict on the request (SNS drops it), a 5xx asks SNS to deliver it again.
// These entries have the shape of src/shared/errors.ts's ERROR_CATALOG so they can move there.

export interface WebhookErrorSpec {
  http: number;
  retryable: boolean;
  /** One line for the README's error table. */
  doc: string;
}

export const WEBHOOK_ERRORS = {
  SNS_BODY_TOO_LARGE: {
    http: 413,
    retryable: false,
    doc: "The request body is over 512 KiB: twice SNS's 256 KiB limit on the Message, which the envelope's JSON escaping grows.",
  },
  SNS_MALFORMED: {
    http: 400,
    retryable: false,
    doc: 'The body is not an SNS message (bad JSON, a missing field, an unknown Type).',
  },
  SNS_UNSUPPORTED_MEDIA_TYPE: {
    http: 415,
    retryable: false,
    doc: 'The body has a Content-Encoding or charset the webhook cannot read (SNS sends plain UTF-8).',
  },
  SNS_RAW_DELIVERY: {
    http: 403,
    retryable: false,
    doc: 'Raw message delivery is on: the message carries no signature; turn RawMessageDelivery off.',
  },
  // 503, not 403: an empty list is the deployment's fault, not the message's. SNS then retries as
  // its delivery policy says (3 times 20 s apart by default, up to an hour when configured) instead
  // of dropping every notification at once, and SQS keeps it. Nothing is given to forgers: the
  // check runs before any certificate is fetched.
  SNS_NO_TOPICS: {
    http: 503,
    retryable: true,
    doc: 'SNS_TOPIC_ARNS is empty, so the webhook applies nothing; SNS retries as its delivery policy says.',
  },
  SNS_TOPIC_NOT_ALLOWED: {
    http: 403,
    retryable: false,
    doc: 'The message comes from a topic that is not in SNS_TOPIC_ARNS.',
  },
  SNS_SIGNATURE_INVALID: {
    http: 403,
    retryable: false,
    doc: 'The signature, its version or the signing certificate (URL, host, name, validity) is wrong.',
  },
  SNS_CERT_UNAVAILABLE: {
    http: 503,
    retryable: true,
    doc: 'The signing certificate could not be fetched in time; SNS retries.',
  },
  SNS_STALE_MESSAGE: {
    http: 400,
    retryable: false,
    doc: 'The message is older than SNS_DEDUPE_WINDOW, so it could be a replay that is no longer detected.',
  },
  SNS_SUBSCRIBE_URL_INVALID: {
    http: 403,
    retryable: false,
    doc: 'The SubscribeURL is not an https URL on an SNS host; it is not called.',
  },
  SNS_SUBSCRIBE_FAILED: {
    http: 503,
    retryable: true,
    doc: 'Confirming the subscription (GET SubscribeURL) failed; SNS sends the confirmation again.',
  },
  SES_EVENT_MALFORMED: {
    http: 400,
    retryable: false,
    doc: 'The notification Message is not an SES event (bad JSON or a missing field).',
  },
  FEEDBACK_UNAVAILABLE: {
    http: 503,
    retryable: true,
    doc: 'Redis or the suppression store failed while applying feedback; SNS retries.',
  },
} as const satisfies Record<string, WebhookErrorSpec>;

export type WebhookErrorCode = keyof typeof WEBHOOK_ERRORS;

export class WebhookError extends Error {
  readonly code: WebhookErrorCode;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: WebhookErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WebhookError';
    this.code = code;
    const spec: WebhookErrorSpec = WEBHOOK_ERRORS[code];
    this.status = spec.http;
    this.retryable = spec.retryable;
  }
}
