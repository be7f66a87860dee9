// Classifies an SES (or network) error into the one class that decides its handling. Pure and
// table-tested: keyed on the error name, the HTTP status and the message, because SES uses the
// same exception for different situations (see the fact sheet, section 5).

export type SesErrorClass = 'throttled' | 'quota' | 'paused' | 'permanent' | 'transient';

export interface SesErrorFacts {
  name: string;
  httpStatus: number | undefined;
  message: string;
}

const PERMANENT_NAMES = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'BadRequestException',
  'InvalidParameterValue',
  'ValidationException',
]);
const PAUSED_NAMES = new Set(['SendingPausedException', 'AccountSuspendedException']);
const THROTTLE_NAMES = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);
/**
 * Refusals of the caller, not of the message: expired or unknown credentials, a bad signature (clock
 * skew), a missing IAM permission. They pass once the deployment is fixed, so the message waits
 * (retried until QUEUE_MAX_AGE) rather than failing with the whole backlog behind it.
 */
const CREDENTIAL_NAMES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);

/**
 * What the SDK names an error it could not read as an SES error: `Unknown` for an answer with no
 * error type (a proxy, a wrong endpoint path), `SyntaxError` for a body that is not JSON (an HTML
 * page). Such a 4xx is no verdict of SES on the message: the deployment is wrong, and the message
 * waits (retried until QUEUE_MAX_AGE) for it to be fixed, as with refused credentials.
 */
const UNREADABLE_NAMES = new Set(['Unknown', 'UnknownError', 'SyntaxError', '']);

function isUnreadable(facts: SesErrorFacts, message: string): boolean {
  return UNREADABLE_NAMES.has(facts.name) || message.includes('deserialization error');
}

export function classifySesError(facts: SesErrorFacts): SesErrorClass {
  const message = facts.message.toLowerCase();
  // The daily quota message can arrive under several names (LimitExceeded, Throttling): message first.
  if (message.includes('daily message quota exceeded')) return 'quota';
  if (message.includes('maximum sending rate exceeded')) return 'throttled';
  // A paused configuration set stops only the mail that names it: holding the whole queue would stop
  // everyone's mail, and the account probe (sending enabled) would lift the hold at once, again and
  // again. Its messages are retried until it is resumed or their queue lifetime ends.
  if (facts.name === 'SendingPausedException' && message.includes('configuration set')) return 'transient';
  if (PAUSED_NAMES.has(facts.name)) return 'paused';
  if (THROTTLE_NAMES.has(facts.name)) return 'throttled';
  // Without the quota text, LimitExceeded is "too many instances of a resource": no rate to back off
  // from, so the message retries on its own schedule instead of slowing every worker.
  if (facts.name === 'LimitExceededException') return 'transient';
  if (facts.httpStatus === 429) return 'throttled';
  if (CREDENTIAL_NAMES.has(facts.name) || facts.httpStatus === 401 || facts.httpStatus === 403) {
    return 'transient';
  }
  if (PERMANENT_NAMES.has(facts.name)) return 'permanent';
  if (isUnreadable(facts, message)) return 'transient';
  // Any other 4xx is SES's verdict on the request; 5xx, timeouts and network errors may pass.
  if (facts.httpStatus !== undefined && facts.httpStatus >= 400 && facts.httpStatus < 500) return 'permanent';
  return 'transient';
}

/** Reads the facts off whatever the SDK threw (service exception, network error, timeout). */
export function sesErrorFacts(err: unknown): SesErrorFacts {
  if (err instanceof Error) {
    const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return { name: err.name, httpStatus: meta?.httpStatusCode, message: err.message };
  }
  return { name: 'Unknown', httpStatus: undefined, message: String(err) };
}
