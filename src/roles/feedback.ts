// The SES feedback handler as both the HTTP role (POST /sns) and the worker role (SQS polling) use
// it: the suppression store, the policy from configuration, and timeline entries for applied events.
import type { Redis } from 'ioredis';
import { createSuppressionStore, type SuppressionStore } from '../suppression/index.js';
import { traceSesEvent } from '../trace/ses-events.js';
import { createSnsWebhook, type CertificateFetcher, type SnsWebhook } from '../webhook/index.js';
import type { RoleContext } from './context.js';

export function createSuppression(ctx: RoleContext, redis: Redis): SuppressionStore {
  return createSuppressionStore({
    redis,
    prefix: ctx.config.REDIS_PREFIX,
    ...(ctx.config.SUPPRESSION_HASH_KEY ? { hashKey: ctx.config.SUPPRESSION_HASH_KEY } : {}),
  });
}

export function createFeedbackHandler(
  ctx: RoleContext,
  redis: Redis,
  suppression: SuppressionStore,
  fetchCertificate?: CertificateFetcher,
): SnsWebhook {
  const { config, logger } = ctx;
  const trace = ctx.traceStore(redis);
  return createSnsWebhook({
    redis,
    prefix: config.REDIS_PREFIX,
    store: suppression,
    logger,
    topicArns: config.SNS_TOPIC_ARNS,
    dedupeWindowMs: config.SNS_DEDUPE_WINDOW,
    logAddresses: !config.SUPPRESSION_HASH_KEY,
    policy: {
      softBounceLimit: config.SOFT_BOUNCE_LIMIT,
      softBounceWindowMs: config.SOFT_BOUNCE_WINDOW,
      softBounceSuppressForMs: config.SOFT_BOUNCE_SUPPRESS_FOR,
      complaintIgnoredFeedbackTypes: config.COMPLAINT_IGNORED_TYPES,
      bounceRules: config.BOUNCE_RULES,
    },
    onApplied: (event) => traceSesEvent(trace, event),
    ...(fetchCertificate ? { fetchCertificate } : {}),
  });
}
