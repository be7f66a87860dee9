// SNS feedback ingestion: verify SNS messages, parse SES events, decide what they mean, apply them
// once, and count them per day. Wiring at start-up:
//   const webhook = createSnsWebhook({ redis, prefix, store, logger, topicArns });
//   for (const warning of webhook.warnings) logger.warn(warning);
//   app.use(createSnsRouter({ webhook, logger }));
//
// Idempotency, and the one window left. The key is the SNS MessageId from the signed body (the
// x-amz-sns-message-id header is the same value, unsigned).
// 1. A done marker exists → 200, nothing applied.
// 2. The actions are applied, each safe to repeat: suppress and reset are upserts; a soft-bounce
//    count first claims `sns:soft:<id>:<n>` (n-th soft-bounced recipient) with SET NX.
// 3. One Lua script sets the done marker and adds the day's counters, atomically; only then 200.
// Any failure answers 503 and SNS redelivers: step 2 repeats harmlessly, the counters move once, and
// two racing deliveries also count once (the script's SET NX).
// The window: recordSoftBounce fails after its claim was taken and the claim cannot be given back
// (Redis gone in between), so the redelivery skips that one soft bounce: an undercount, never a
// double count, so our retries never suppress a good address early. Done markers live for the
// dedupe window (default 1 day) + 1 h; an older message is refused (400) rather than applied twice. With
// the real store, a redelivery after a mid-way failure also bumps that suppression's event count.
export { WEBHOOK_ERRORS, WebhookError, type WebhookErrorCode } from './errors.js';
export {
  DEFAULT_BOUNCE_RULES,
  DEFAULT_FEEDBACK_POLICY,
  decideFeedback,
  resolvePolicy,
  type BounceVerdict,
  type FeedbackAction,
  type FeedbackPolicy,
} from './feedback-policy.js';
export { createFeedbackKeys, type FeedbackKeys } from './keys.js';
export {
  createSnsFastPath,
  createSnsRouter,
  SNS_BODY_LIMIT_BYTES,
  type SnsFastPathOptions,
  type SnsRouterOptions,
} from './router.js';
export { parseSesEvent, type SesEvent } from './ses-event.js';
export type { SnsHeaders, SnsMessage } from './sns-envelope.js';
export { createSnsVerifier, type CertificateFetcher, type SnsVerifier } from './sns-verify.js';
export { readDailyStats, STAT_FIELDS, STATS_TTL_MS, utcDay, type DailyStats } from './stats.js';
export type { SuppressionDetails, SuppressionReason, SuppressionSink } from './suppression-sink.js';
export {
  createSnsWebhook,
  DEFAULT_DEDUPE_WINDOW_MS,
  type SnsResult,
  type SnsWebhook,
  type SnsWebhookOptions,
  type SubscriptionConfirmer,
} from './webhook.js';
