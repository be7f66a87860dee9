// Classifies an SES (or network) error into the one class that decides its handling. Pure and
// table-tested: keyed on the error name, the HTTP status and the message, because SES uses the
// same exception for different situations (see the fact sheet, section 5).

export type SesErrorClass = 'throttled' | 'quota' | 'paused' | 'permanent' | 'transient';

export interface SesErrorFacts {
  name: string;
  httpStatus: number | undefined;
  message: string;
  /**
   * False when no answer to the call came back from the endpoint: the error arose on the way (the
   * credentials provider, signing, the connection). Its HTTP status, if any, is another service's
   * (STS refusing a web identity token, say), never SES's verdict on the message.
   */
  answered?: boolean;
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
/** SES's own, and the names the AWS SDK takes for throttling from any AWS front end. */
const THROTTLE_NAMES = new Set([
  'TooManyRequestsException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
/**
 * The request did not reach SES in time (a slow upload of a large message), answered 400 or 408 by
 * AWS's front end: the AWS SDK retries these, and so does the gateway.
 */
const TIMEOUT_NAMES = new Set(['RequestTimeout', 'RequestTimeoutException', 'TimeoutError']);
/**
 * Refusals of the caller, not of the message: expired or unknown credentials, a bad signature (clock
 * skew), a missing IAM permission. They pass once the deployment is fixed, so the message waits
 * (retried until QUEUE_MAX_AGE) rather than failing with the whole backlog behind it.
 */
const CREDENTIAL_NAMES = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'AuthFailure',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  // The clock is off (skew): the SDK corrects its offset from the answer, and the retry is signed anew.
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);

/**
 * What the SDK names an error it could not read as an SES error: `Unknown` for an answer with no
 * error type (a proxy, a wrong endpoint path), `SyntaxError` for a body that is not JSON (an HTML
 * page); and an AWS endpoint's answer to an operation it does not have. Such a 4xx is no verdict of
 * SES on the message: the deployment is wrong, and the message waits (retried until QUEUE_MAX_AGE)
 * for it to be fixed, as with refused credentials.
 */
const UNREADABLE_NAMES = new Set([
  'Unknown',
  'UnknownError',
  'SyntaxError',
  '',
  // An AWS endpoint that has no SendEmail: SES_ENDPOINT names another service.
  'UnknownOperationException',
]);

function isUnreadable(facts: SesErrorFacts, message: string): boolean {
  return UNREADABLE_NAMES.has(facts.name) || message.includes('deserialization error');
}

export function classifySesError(facts: SesErrorFacts): SesErrorClass {
  if (facts.answered === false) return 'transient';
  const message = facts.message.toLowerCase();
  // The daily quota message can arrive under several names (LimitExceeded, Throttling): message first.
  if (message.includes('daily message quota exceeded')) return 'quota';
  if (message.includes('maximum sending rate exceeded')) return 'throttled';
  // An account AWS paused for its reputation is refused as MessageRejected "Sending paused for this
  // account." (SES SMTP says 554 Message rejected): by its name alone, every queued message would
  // fail for good, each with a DSN, while the account waits to be resumed.
  const paused = PAUSED_NAMES.has(facts.name) || /sending (is )?paused/.test(message);
  // A paused configuration set stops only the mail that names it: holding the whole queue would stop
  // everyone's mail, and the account probe (sending enabled) would lift the hold at once, again and
  // again. Its messages are retried until it is resumed or their queue lifetime ends.
  if (paused && message.includes('configuration set')) return 'transient';
  if (paused) return 'paused';
  if (THROTTLE_NAMES.has(facts.name)) return 'throttled';
  // Without the quota text, LimitExceeded is "too many instances of a resource": no rate to back off
  // from, so the message retries on its own schedule instead of slowing every worker.
  if (facts.name === 'LimitExceededException') return 'transient';
  if (facts.httpStatus === 429) return 'throttled';
  if (TIMEOUT_NAMES.has(facts.name) || facts.httpStatus === 408) return 'transient';
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
