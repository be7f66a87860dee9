// The SNS feedback handler, independent of HTTP: text and headers in, status and JSON body out, so
// the Express router and a later SQS poller feed the same code. Order of checks: shape, topic
// allow-list (before any certificate fetch, so an unauthenticated post cannot make us call out),
// signature, then the message type's own handling. 2xx only after Redis committed.
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { errorMessage } from '../shared/errors.js';
import { WebhookError } from './errors.js';
import { createFeedbackApplier } from './feedback-apply.js';
import { createFeedbackLedger } from './feedback-ledger.js';
import { decideFeedback, resolvePolicy, type FeedbackPolicy } from './feedback-policy.js';
import { httpsGet } from './https-get.js';
import { createFeedbackKeys } from './keys.js';
import { parseSesEvent, sesEventKey, type SesEvent } from './ses-event.js';
import { headerValue, parseSnsEnvelope, type SnsConfirmation, type SnsHeaders } from './sns-envelope.js';
import { checkSubscribeUrl } from './sns-url.js';
import { createSnsVerifier, type CertificateFetcher, type SnsVerifier } from './sns-verify.js';
import type { SuppressionSink } from './suppression-sink.js';

/** GETs an already-checked SubscribeURL; resolves once SNS accepted the confirmation. */
export type SubscriptionConfirmer = (url: URL) => Promise<void>;

export interface SnsWebhookOptions {
  redis: Redis;
  /** REDIS_PREFIX; keys go under `${prefix}:sns:` and `${prefix}:stats:`. */
  prefix: string;
  store: SuppressionSink;
  logger: Logger;
  /** SNS_TOPIC_ARNS. Empty: every message is answered 503 (SNS_NO_TOPICS), nothing applied. */
  topicArns: readonly string[];
  policy?: Partial<FeedbackPolicy>;
  /** How long a message id is remembered; older messages are refused as possible replays. */
  dedupeWindowMs?: number;
  verifier?: SnsVerifier;
  /** Used by the default verifier; tests inject a local certificate here. */
  fetchCertificate?: CertificateFetcher;
  confirmSubscription?: SubscriptionConfirmer;
  /** Default true. Pass false when the suppression store runs in privacy mode. */
  logAddresses?: boolean;
  now?: () => number;
  /** Called once per newly applied event (after Redis committed), e.g. to extend message timelines. */
  onApplied?(event: SesEvent): Promise<void>;
}

export interface SnsResult {
  status: number;
  body:
    | { status: 'applied' | 'duplicate' | 'confirmed' | 'unsubscribed' }
    | { error: { code: string; message: string } };
}

export interface SnsWebhook {
  /** `source` 'sqs': read from an SQS queue, where old messages are not refused as replays. */
  handleSnsBody(bodyText: string, headers?: SnsHeaders, source?: 'http' | 'sqs'): Promise<SnsResult>;
  /** For sources that are already authenticated (SQS with raw delivery): the SES event JSON and a stable id. */
  applySesEvent(id: string, messageText: string): Promise<SnsResult>;
  /** Problems start-up should log, e.g. an empty topic list. */
  readonly warnings: readonly string[];
}

/**
 * SNS stops retrying an HTTP/S endpoint within 3,600 s (a hard limit; by default 3 retries 20 s
 * apart), so a day leaves room for throttled backlogs and clock skew. Each remembered message costs
 * ~120 B of Redis for the window. An SQS poller may want longer: SQS keeps messages up to 14 days.
 */
export const DEFAULT_DEDUPE_WINDOW_MS = 86_400_000;
export const SUBSCRIBE_TIMEOUT_MS = 5_000;
const SUBSCRIBE_MAX_BYTES = 64 * 1024;
const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const defaultSubscriptionConfirmer: SubscriptionConfirmer = async (url) => {
  const response = await httpsGet(url, { timeoutMs: SUBSCRIBE_TIMEOUT_MS, maxBytes: SUBSCRIBE_MAX_BYTES });
  if (response.status !== 200) throw new Error(`SubscribeURL answered ${response.status}`);
};

export function createSnsWebhook(options: SnsWebhookOptions): SnsWebhook {
  const { redis, store, topicArns } = options;
  const log = options.logger.child({ component: 'sns' });
  const now = options.now ?? Date.now;
  const policy = resolvePolicy(options.policy);
  const dedupeWindowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const allowedTopics = new Set(topicArns);
  const verifier = options.verifier ?? createSnsVerifier({ fetchCertificate: options.fetchCertificate, now });
  const confirmSubscription = options.confirmSubscription ?? defaultSubscriptionConfirmer;
  const keys = createFeedbackKeys(options.prefix);
  // An hour beyond the window: a message refused as stale by its timestamp can never find its marker gone.
  const doneTtlMs = dedupeWindowMs + 3_600_000;
  const ledger = createFeedbackLedger({ redis, keys, doneTtlMs });
  const logAddresses = options.logAddresses ?? true;
  const apply = createFeedbackApplier({ redis, keys, store, claimTtlMs: doneTtlMs, logAddresses });

  async function applyEvent(
    id: string,
    messageText: string,
    context: Record<string, unknown>,
  ): Promise<SnsResult> {
    const event = parseSesEvent(messageText);
    const sesMessageId = 'mail' in event ? event.mail.messageId : undefined;
    const eventLog = log.child({ snsMessageId: id, sesMessageId, ...context });
    const key = sesEventKey(event, id);
    try {
      if (await ledger.isDone(key)) {
        eventLog.info({ type: event.type }, 'sns.duplicate');
        return ok('duplicate');
      }
      const receivedAt = now();
      const counts = await apply(decideFeedback(event, policy, receivedAt), key, eventLog);
      const fresh = await ledger.commit(key, counts, receivedAt);
      eventLog.info({ type: event.type, fresh }, 'sns.applied');
      // Best effort: a timeline entry that fails to write must not make SNS redeliver the event.
      if (fresh)
        await options
          .onApplied?.(event)
          .catch((err) => eventLog.warn({ err: errorMessage(err) }, 'sns.on_applied_failed'));
      return ok(fresh ? 'applied' : 'duplicate');
    } catch (err) {
      throw new WebhookError('FEEDBACK_UNAVAILABLE', 'feedback could not be stored; retry later', {
        cause: err,
      });
    }
  }

  async function confirm(message: SnsConfirmation): Promise<SnsResult> {
    const context = { topicArn: message.TopicArn, snsMessageId: message.MessageId };
    if (message.Type === 'UnsubscribeConfirmation') {
      // Nothing to do: the subscription is gone. Loud, because feedback stops arriving.
      log.warn(context, 'sns.unsubscribed');
      return ok('unsubscribed');
    }
    const check = checkSubscribeUrl(message.SubscribeURL, message.TopicArn);
    if (!check.ok) {
      throw new WebhookError('SNS_SUBSCRIBE_URL_INVALID', `SubscribeURL refused: ${check.reason}`);
    }
    try {
      await confirmSubscription(check.url);
    } catch (err) {
      throw new WebhookError('SNS_SUBSCRIBE_FAILED', 'could not confirm the subscription', { cause: err });
    }
    log.info(context, 'sns.subscription.confirmed');
    return ok('confirmed');
  }

  async function handleSnsBody(
    bodyText: string,
    headers: SnsHeaders = {},
    source: 'http' | 'sqs' = 'http',
  ): Promise<SnsResult> {
    try {
      const message = parseSnsEnvelope(bodyText, headers);
      if (allowedTopics.size === 0) {
        throw new WebhookError(
          'SNS_NO_TOPICS',
          'no SNS topic is configured (SNS_TOPIC_ARNS is empty); nothing was applied, retry later',
        );
      }
      if (!allowedTopics.has(message.TopicArn)) {
        throw new WebhookError('SNS_TOPIC_NOT_ALLOWED', `topic ${message.TopicArn} is not allowed`);
      }
      await verifier.verify(message);
      if (message.Type !== 'Notification') return await confirm(message);
      // Over HTTP a signed message could be replayed once its done marker has expired. A queue is
      // authenticated by IAM and holds feedback through long outages, so its messages have no age limit.
      if (source === 'http' && now() - Date.parse(message.Timestamp) > dedupeWindowMs) {
        throw new WebhookError(
          'SNS_STALE_MESSAGE',
          `message of ${message.Timestamp} is older than the dedupe window`,
        );
      }
      return await applyEvent(message.MessageId, message.Message, { topicArn: message.TopicArn });
    } catch (err) {
      // Header values only label the log line; nothing is decided on them (they are not signed).
      return failure(err, {
        topicArn: headerValue(headers, 'x-amz-sns-topic-arn'),
        snsMessageId: headerValue(headers, 'x-amz-sns-message-id'),
      });
    }
  }

  async function applySesEvent(id: string, messageText: string): Promise<SnsResult> {
    try {
      return await applyEvent(id, messageText, {});
    } catch (err) {
      return failure(err, {});
    }
  }

  function failure(err: unknown, context: Record<string, unknown>): SnsResult {
    if (!(err instanceof WebhookError)) {
      log.error({ ...context, err: errorMessage(err) }, 'sns.failed');
      return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
    }
    const cause = err.cause === undefined ? undefined : errorMessage(err.cause);
    const fields = { ...context, code: err.code, reason: err.message, cause };
    // Who caused it decides the level. A 5xx is the gateway's own failure (an empty topic list
    // included: feedback waits until it is set): error. A 4xx is a verdict on the input, most of them
    // reached before the signature is checked (raw delivery, a topic not allowed, a bad signature), so
    // anyone can cause them and at error any scanner could fill the log: warn, where raw delivery
    // still says what to change.
    log[err.retryable ? 'error' : 'warn'](fields, 'sns.refused');
    return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  }

  return { handleSnsBody, applySesEvent, warnings: configWarnings(topicArns) };
}

function configWarnings(topicArns: readonly string[]): string[] {
  if (topicArns.length === 0) {
    return [
      'SNS_TOPIC_ARNS is empty: no SNS message is applied until topics are listed (the webhook answers every message 503, so SNS retries; SQS leaves them in the queue)',
    ];
  }
  return topicArns
    .filter((arn) => !TOPIC_ARN_PATTERN.test(arn))
    .map((arn) => `SNS_TOPIC_ARNS entry "${arn}" does not look like an SNS topic ARN`);
}

function ok(status: 'applied' | 'duplicate' | 'confirmed' | 'unsubscribed'): SnsResult {
  return { status: 200, body: { status } };
}
