import { describe, expect, it } from 'vitest';
import { chunkRecipients } from '../../src/ses/chunks.js';
import { classifySesError, type SesErrorClass } from '../../src/ses/classify.js';
import { dsnStatus } from '../../src/queue/dsn-sender.js';
import { attemptsForLifetime, retryDelayMs, retryPolicyOf } from '../../src/queue/retry.js';
import { ERROR_CATALOG, RelayError, smtpError } from '../../src/shared/errors.js';

describe('SES error classification', () => {
  const cases: [string, number | undefined, string, SesErrorClass][] = [
    ['TooManyRequestsException', 429, 'Maximum sending rate exceeded.', 'throttled'],
    ['Throttling', 400, 'Maximum sending rate exceeded.', 'throttled'],
    ['LimitExceededException', 400, 'Daily message quota exceeded.', 'quota'],
    ['Throttling', 400, 'Daily message quota exceeded.', 'quota'],
    ['LimitExceededException', 400, 'Too many instances', 'transient'],
    ['Unknown', 429, '', 'throttled'],
    ['SendingPausedException', 400, 'Sending is paused for this account.', 'paused'],
    ['AccountSuspendedException', 400, 'suspended', 'paused'],
    ['SendingPausedException', 400, 'Sending is paused for this configuration set.', 'transient'],
    // How SES refuses mail from an account AWS paused (its SMTP interface: 554 Message rejected).
    [
      'MessageRejected',
      400,
      'Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account.',
      'paused',
    ],
    ['MessageRejected', 400, 'Sending paused for this configuration set.', 'transient'],
    ['MessageRejected', 400, 'Email address is not verified.', 'permanent'],
    ['MailFromDomainNotVerifiedException', 400, 'not verified', 'permanent'],
    ['NotFoundException', 404, 'Configuration set does not exist', 'permanent'],
    ['BadRequestException', 400, 'bad', 'permanent'],
    // A 4xx with an error type SES sent, even one this table does not know, is SES's verdict.
    ['SomethingNew', 400, 'unknown verdict', 'permanent'],
    // A 4xx the SDK could not read as an SES error (no error type; an HTML or plain-text page from a
    // proxy or a wrong endpoint path) is no verdict on the message: it waits, like a credential error.
    ['Unknown', 404, 'UnknownError', 'transient'],
    ['Unknown', 400, 'nope', 'transient'],
    ['UnknownError', 404, '', 'transient'],
    [
      'SyntaxError',
      404,
      `Unexpected token '<', "<html><bod"... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.`,
      'transient',
    ],
    ['SyntaxError', 407, "Unexpected token 'P'... Deserialization error: ...", 'transient'],
    // An AWS endpoint of another service (SES_ENDPOINT set wrong) knows no SendEmail.
    ['UnknownOperationException', 404, '', 'transient'],
    ['InternalFailure', 500, 'oops', 'transient'],
    ['ServiceUnavailable', 503, '', 'transient'],
    ['TimeoutError', undefined, 'socket timed out', 'transient'],
    ['Error', undefined, 'connect ECONNREFUSED 127.0.0.1:1', 'transient'],
    ['AbortError', undefined, 'Request aborted', 'transient'],
    // The deployment's credentials or clock, not the message: retried until fixed.
    ['ExpiredTokenException', 403, 'The security token included in the request is expired', 'transient'],
    ['InvalidSignatureException', 403, 'Signature expired', 'transient'],
    ['AccessDeniedException', 403, 'not authorized to perform ses:SendEmail', 'transient'],
    ['UnrecognizedClientException', 403, 'The security token is invalid', 'transient'],
    ['Unknown', 401, '', 'transient'],
    // Names AWS front ends answer for any service with a 4xx: a request that took too long to
    // arrive, a clock out of step, throttling. The AWS SDK retries them; none is a verdict.
    ['RequestTimeoutException', 400, 'Request timed out', 'transient'],
    ['RequestTimeout', 400, 'Your socket connection to the server was not read from', 'transient'],
    ['SomethingNew', 408, 'Request Timeout', 'transient'],
    ['RequestExpired', 400, 'Request has expired.', 'transient'],
    ['RequestTimeTooSkewed', 403, 'The difference between the request time and the server time', 'transient'],
    ['RequestInTheFuture', 400, 'Request is not yet valid', 'transient'],
    ['AuthFailure', 401, 'AWS was not able to validate the provided access credentials', 'transient'],
    ['RequestLimitExceeded', 400, 'Request limit exceeded.', 'throttled'],
    ['SlowDown', 503, 'Please reduce your request rate.', 'throttled'],
    ['ThrottledException', 400, 'Rate exceeded', 'throttled'],
  ];
  it.each(cases)('%s (HTTP %s, "%s") → %s', (name, httpStatus, message, expected) => {
    expect(classifySesError({ name, httpStatus, message })).toBe(expected);
  });

  it('never takes an error raised before SES answered (credentials, signing, network) as a verdict', () => {
    // STS refusing a web identity token while it rotates: a 400 of another service, not SES's.
    const facts = { name: 'InvalidIdentityToken', httpStatus: 400, message: 'Token expired' };
    expect(classifySesError({ ...facts, answered: false })).toBe('transient');
    expect(classifySesError({ ...facts, answered: true })).toBe('permanent');
  });
});

describe('recipient chunks', () => {
  it('splits 120 recipients into 50 + 50 + 20 in order', () => {
    const recipients = Array.from({ length: 120 }, (_, i) => `r${i}@example.com`);
    const chunks = chunkRecipients(recipients);
    expect(chunks.map((c) => c.length)).toEqual([50, 50, 20]);
    expect(chunks.flat()).toEqual(recipients);
  });
});

describe('retry delay', () => {
  const policy = { attempts: 10, baseMs: 1000, maxMs: 60_000, maxAgeMs: 0 };
  it('grows exponentially, is capped, and jitters within 50–100%', () => {
    expect(retryDelayMs(1, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(3, policy, () => 1)).toBe(4000);
    expect(retryDelayMs(3, policy, () => 0)).toBe(2000);
    expect(retryDelayMs(20, policy, () => 1)).toBe(60_000);
  });

  it('keeps retrying through the queue lifetime unless SEND_MAX_ATTEMPTS says otherwise', () => {
    const timing = { SEND_RETRY_BASE: 2000, SEND_RETRY_MAX: 900_000, QUEUE_MAX_AGE: 3 * 86_400_000 };
    const attempts = retryPolicyOf(timing).attempts;
    // Even with every delay at its shortest, the attempts last the whole lifetime, and not much more.
    let shortest = 0;
    for (let n = 1; n < attempts; n++)
      shortest += retryDelayMs(n, { ...policy, baseMs: 2000, maxMs: 900_000 }, () => 0);
    expect(shortest).toBeGreaterThanOrEqual(timing.QUEUE_MAX_AGE);
    expect(shortest - timing.QUEUE_MAX_AGE).toBeLessThan(900_000);
    expect(attempts).toBe(attemptsForLifetime({ baseMs: 2000, maxMs: 900_000, maxAgeMs: 3 * 86_400_000 }));
    expect(retryPolicyOf({ ...timing, SEND_MAX_ATTEMPTS: 25 }).attempts).toBe(25);
  });

  it.each([
    { baseMs: 2000, maxMs: 900_000, maxAgeMs: 3 * 86_400_000 },
    { baseMs: 50, maxMs: 200, maxAgeMs: 600_000 },
    { baseMs: 7, maxMs: 1000, maxAgeMs: 123_457 },
    { baseMs: 1000, maxMs: 1000, maxAgeMs: 10_500 },
    { baseMs: 60_000, maxMs: 900_000, maxAgeMs: 1000 },
  ])('counts the lifetime attempts of %j as one step per attempt would', (timing) => {
    let attempts = 1;
    for (let waited = 0; waited < timing.maxAgeMs; attempts++)
      waited += retryDelayMs(attempts, { ...timing, attempts }, () => 0);
    expect(attemptsForLifetime(timing)).toBe(attempts);
  });

  it('counts the attempts of a days-long lifetime with a cap of milliseconds (the test gateways)', () => {
    const attempts = attemptsForLifetime({ baseMs: 50, maxMs: 50, maxAgeMs: 3 * 86_400_000 });
    expect(attempts).toBe(1 + Math.ceil((3 * 86_400_000) / 25));
  });
});

describe('DSN status', () => {
  it('is 4.4.7 for an expired lifetime, 4.0.0 for used-up transient retries, 5.0.0 for a refusal', () => {
    expect(dsnStatus('QUEUE_LIFETIME_EXCEEDED: not delivered within 72 h')).toBe('4.4.7');
    expect(dsnStatus('SES_TRANSIENT: ServiceUnavailable (HTTP 503)')).toBe('4.0.0');
    expect(dsnStatus('SES_PERMANENT: MessageRejected (HTTP 400): Email address is not verified.')).toBe(
      '5.0.0',
    );
  });
});

describe('error catalog', () => {
  it('gives every SMTP-mapped code a matching enhanced status class', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      if (!('smtp' in spec)) continue;
      expect(spec.smtp.enhanced[0], code).toBe(String(spec.smtp.code)[0]);
      expect(spec.doc.length, code).toBeGreaterThan(10);
    }
  });

  it('puts the enhanced code first in SMTP error texts', () => {
    const err = smtpError('SMTP_TOO_MANY_RECIPIENTS', 'Too many recipients');
    expect(err).toBeInstanceOf(RelayError);
    expect(err.responseCode).toBe(452);
    expect(err.message).toBe('4.5.3 Too many recipients');
    expect(err.retryable).toBe(true);
  });
});
