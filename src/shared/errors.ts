// The one error type of the gateway and its catalog of stable codes. Each code says whether a retry
// can help and, where it crosses a boundary, the SMTP reply or HTTP status it becomes.

export interface SmtpReply {
  /** Basic SMTP reply code, e.g. 451. */
  code: number;
  /** RFC 3463 enhanced status code, e.g. "4.3.0". */
  enhanced: string;
}

export interface ErrorSpec {
  retryable: boolean;
  smtp?: SmtpReply;
  http?: number;
  /** One line for the README's error table. */
  doc: string;
}

export const ERROR_CATALOG = {
  CONFIG_INVALID: { retryable: false, doc: 'A configuration value is missing or malformed; start-up stops.' },
  SMTP_CLIENT_NOT_ALLOWED: {
    retryable: false,
    smtp: { code: 554, enhanced: '5.7.1' },
    doc: 'The client address is outside SMTP_ALLOWED_NETWORKS; refused at connect.',
  },
  SMTP_SENDER_NOT_ALLOWED: {
    retryable: false,
    smtp: { code: 553, enhanced: '5.7.1' },
    doc: 'The envelope sender is not in SMTP_ALLOWED_SENDERS.',
  },
  SMTP_AUTHOR_NOT_ALLOWED: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.7.1' },
    doc: "The message's From or Sender field names an address outside the SMTP user's allowedSenders.",
  },
  SMTP_NON_ASCII_LOCAL_PART: {
    retryable: false,
    smtp: { code: 553, enhanced: '5.6.7' },
    doc: 'The address has a non-ASCII local part; SES has no SMTPUTF8.',
  },
  SMTP_PARAMETER_NOT_SUPPORTED: {
    retryable: false,
    smtp: { code: 555, enhanced: '5.5.4' },
    doc: 'MAIL or RCPT carries a parameter the gateway did not offer (SMTPUTF8, DSN RET/ENVID/NOTIFY/ORCPT, …).',
  },
  SMTP_BAD_SENDER: {
    retryable: false,
    smtp: { code: 553, enhanced: '5.1.7' },
    doc: 'The envelope sender is not a valid mailbox.',
  },
  SMTP_BAD_ADDRESS: {
    retryable: false,
    smtp: { code: 553, enhanced: '5.1.3' },
    doc: 'The address is not a valid mailbox.',
  },
  SMTP_TOO_MANY_RECIPIENTS: {
    retryable: true,
    smtp: { code: 452, enhanced: '4.5.3' },
    doc: 'More than SMTP_MAX_RECIPIENTS recipients in one transaction; the client sends the rest later.',
  },
  SMTP_DAILY_CAP_RECIPIENTS: {
    retryable: true,
    smtp: { code: 452, enhanced: '4.5.3' },
    doc: "More recipients in one transaction than the SMTP user's dailyCap; the client sends the rest in another.",
  },
  SMTP_RECIPIENT_SUPPRESSED: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.1.1' },
    doc: 'The recipient is on the suppression list (hard bounce, complaint or manual entry).',
  },
  SUPPRESSION_BAD_INPUT: {
    retryable: false,
    http: 400,
    doc: 'A suppression request names an invalid address, cursor, limit or reason.',
  },
  SMTP_MESSAGE_TOO_BIG: {
    retryable: false,
    smtp: { code: 552, enhanced: '5.3.4' },
    doc: 'The message is larger than SMTP_MAX_MESSAGE_BYTES.',
  },
  SMTP_MESSAGE_TOO_BIG_FOR_SES: {
    retryable: false,
    smtp: { code: 552, enhanced: '5.3.4' },
    doc: 'The message as prepared for SES (Date and Message-ID added) is over the 40 MB SES accepts.',
  },
  SMTP_HEADER_TOO_BIG: {
    retryable: false,
    smtp: { code: 552, enhanced: '5.3.4' },
    doc: 'The header section (up to the first blank line) is over 1 MiB.',
  },
  SMTP_DUPLICATE_FIELD: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.6.0' },
    doc: 'A header field SES takes once (From, Subject, To, …) occurs twice with different values; SES would refuse it for good.',
  },
  SMTP_LINE_TOO_LONG: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.6.0' },
    doc: 'A line of the message is over 998 characters (RFC 5322); SES would refuse it for good.',
  },
  SMTP_FIELD_AFTER_BARE_CR: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.6.0' },
    doc: 'A Bcc, From, Sender or X-SES-* header field follows a bare CR inside another field, where SES may see a line the gateway does not.',
  },
  SMTP_FROM_MISSING: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.6.0' },
    doc: 'The message has no From header field; SES would refuse it for good.',
  },
  SMTP_FROM_WITHOUT_DOMAIN: {
    retryable: false,
    smtp: { code: 550, enhanced: '5.6.0' },
    doc: "The message's From field has no address with a domain (cron's `From: root`); SES would refuse it for good.",
  },
  SMTP_SHUTTING_DOWN: {
    retryable: true,
    smtp: { code: 421, enhanced: '4.3.2' },
    doc: 'The gateway is shutting down; the client retries elsewhere or later.',
  },
  SMTP_TOO_MANY_CONNECTIONS: {
    retryable: true,
    smtp: { code: 421, enhanced: '4.7.0' },
    doc: 'SMTP_MAX_CONNECTIONS or SMTP_MAX_CONNECTIONS_PER_IP reached; the client retries later.',
  },
  SMTP_TLS_REQUIRED: {
    retryable: false,
    smtp: { code: 530, enhanced: '5.7.0' },
    doc: 'MAIL before STARTTLS with SMTP_REQUIRE_TLS on, or AUTH before STARTTLS on the plain port.',
  },
  SMTP_AUTH_REQUIRED: {
    retryable: false,
    smtp: { code: 530, enhanced: '5.7.0' },
    doc: 'The client must authenticate first (outside SMTP_ALLOWED_NETWORKS, or SMTP_AUTH_REQUIRED).',
  },
  SMTP_AUTH_REVOKED: {
    retryable: false,
    smtp: { code: 530, enhanced: '5.7.0' },
    doc: 'The authenticated user was removed from SMTP_USERS_FILE during the session; MAIL is refused.',
  },
  SMTP_AUTH_FAILED: {
    retryable: false,
    smtp: { code: 535, enhanced: '5.7.8' },
    doc: 'Wrong username or password.',
  },
  SMTP_AUTH_THROTTLED: {
    retryable: true,
    smtp: { code: 454, enhanced: '4.7.0' },
    doc: 'Too many failed logins from this address; refused for SMTP_AUTH_COOLDOWN.',
  },
  SMTP_AUTH_UNAVAILABLE: {
    retryable: true,
    smtp: { code: 454, enhanced: '4.7.0' },
    doc: 'The login throttle (Redis) cannot be reached; logins are refused until it can.',
  },
  SMTP_PROXY_HEADER_INVALID: {
    retryable: false,
    smtp: { code: 421, enhanced: '4.7.0' },
    doc: 'SMTP_PROXY_PROTOCOL is on and the connection did not start with a valid PROXY header.',
  },
  SMTP_PROXY_PEER_UNTRUSTED: {
    retryable: false,
    smtp: { code: 421, enhanced: '4.7.0' },
    doc: 'SMTP_PROXY_PROTOCOL is on and the connection does not come from SMTP_PROXY_TRUSTED_NETWORKS.',
  },
  QUEUE_FULL: {
    retryable: true,
    smtp: { code: 452, enhanced: '4.3.1' },
    doc: 'Redis memory is at REDIS_MEMORY_HIGH_WATER: intake takes no new mail until the workers have sent some.',
  },
  REDIS_MAY_EVICT: {
    retryable: true,
    smtp: { code: 451, enhanced: '4.3.0' },
    doc: "Redis's maxmemory-policy changed from noeviction after start-up (a restart, a failover, CONFIG SET): intake takes no new mail until it is noeviction again.",
  },
  QUEUE_UNAVAILABLE: {
    retryable: true,
    smtp: { code: 451, enhanced: '4.3.0' },
    http: 503,
    doc: 'Redis did not take the message in time; nothing was queued, the client retries.',
  },
  REDIS_TOO_OLD: {
    retryable: false,
    doc: 'Redis is older than 6.2, which BullMQ needs; start-up stops.',
  },
  REDIS_EVICTION_POLICY: {
    retryable: false,
    doc: 'Redis would evict keys under memory pressure (maxmemory-policy is not noeviction); start-up stops.',
  },
  REDIS_REPLICAS_LAGGING: {
    retryable: true,
    smtp: { code: 451, enhanced: '4.3.0' },
    doc: 'REDIS_WAIT_REPLICAS replicas did not acknowledge the write in time; the client retries.',
  },
  RAW_MESSAGE_MISSING: {
    retryable: false,
    doc: 'A queued job has no stored message bytes (expired or deleted); the job fails.',
  },
  SES_PERMANENT: {
    retryable: false,
    doc: 'SES refused the message for good; the job fails with the SES error.',
  },
  SES_TRANSIENT: { retryable: true, doc: 'SES or the network failed in a way a later retry can fix.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** smtp-server sends `responseCode` with the message as the reply. */
  readonly responseCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayError';
    this.code = code;
    const spec: ErrorSpec = ERROR_CATALOG[code];
    this.retryable = spec.retryable;
    this.responseCode = spec.smtp?.code;
  }
}

/**
 * An error for an smtp-server callback: the text starts with the enhanced status code, because the
 * listener runs with smtp-server's own enhanced codes off (its defaults do not fit our replies).
 */
export function smtpError(code: ErrorCode, text: string): RelayError {
  const spec: ErrorSpec = ERROR_CATALOG[code];
  if (!spec.smtp) throw new Error(`error code ${code} has no SMTP reply`);
  return new RelayError(code, `${spec.smtp.enhanced} ${text}`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
