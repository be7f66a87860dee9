// Carries out the policy's actions against the suppression store and collects the counters for the
// ledger. Every action here must be safe to repeat, because a failure anywhere makes SNS deliver the
// whole message again: suppress and reset are upserts; a soft-bounce count is claimed per
// (SNS message, recipient) in Redis first, so a redelivery does not count it twice.
import type { Redis } from 'ioredis';
import { RelayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { FeedbackAction } from './feedback-policy.js';
import type { FeedbackKeys } from './keys.js';
import type { StatCounts } from './stats.js';
import type { SuppressionSink } from './suppression-sink.js';

export interface FeedbackApplierOptions {
  redis: Redis;
  keys: FeedbackKeys;
  store: SuppressionSink;
  /** Lifetime of a soft-bounce claim; as long as a done marker, so it outlives every redelivery. */
  claimTtlMs: number;
  /** False when the store runs in privacy mode: no address, nor a diagnostic quoting one, is logged. */
  logAddresses: boolean;
}

export type FeedbackApplier = (
  actions: FeedbackAction[],
  snsMessageId: string,
  log: Logger,
) => Promise<StatCounts>;

type SoftBounce = Extract<FeedbackAction, { kind: 'count-soft-bounce' }>;

export function createFeedbackApplier(options: FeedbackApplierOptions): FeedbackApplier {
  const { redis, keys, store, claimTtlMs, logAddresses } = options;
  const shown = (address: string | undefined) => (logAddresses ? address : undefined);
  const quoted = (text: string | undefined) => (logAddresses ? text : undefined);

  async function countSoftBounce(action: SoftBounce, claim: string, log: Logger): Promise<void> {
    const address = shown(action.address);
    if ((await redis.set(claim, '1', 'PX', claimTtlMs, 'NX')) === null) {
      log.debug({ address }, 'feedback.soft_bounce.already_counted');
      return;
    }
    let result: { count: number; suppressed: boolean };
    try {
      result = await store.recordSoftBounce(action.address, action.options);
    } catch (err) {
      // Give the count back so the redelivery makes it. If this DEL fails too, that one soft bounce
      // stays uncounted: the remaining window, and the safe side of it (see index.ts).
      await redis.del(claim).catch(() => undefined);
      throw err;
    }
    const fields = { address, bounceSubType: action.options.details?.bounceSubType, count: result.count };
    log.info(fields, result.suppressed ? 'feedback.soft_bounce.suppressed' : 'feedback.soft_bounce.counted');
  }

  async function run(action: FeedbackAction, claim: string | undefined, log: Logger): Promise<void> {
    switch (action.kind) {
      case 'suppress': {
        await store.suppress(action.address, action.details);
        const { diagnosticCode, ...details } = action.details;
        const fields = { ...details, diagnosticCode: quoted(diagnosticCode), mirror: action.mirror };
        log.info({ address: shown(action.address), ...fields }, 'feedback.suppressed');
        return;
      }
      case 'count-soft-bounce':
        return countSoftBounce(action, claim!, log);
      case 'reset-soft-bounces':
        await store.resetSoftBounces(action.address, action.at);
        return;
      case 'record':
        log.info({ address: shown(action.address), detail: quoted(action.detail) }, action.event);
        return;
      case 'count':
        return;
    }
  }

  async function runOrSkip(action: FeedbackAction, claim: string | undefined, log: Logger): Promise<void> {
    try {
      await run(action, claim, log);
    } catch (err) {
      // A verdict on this one recipient (e.g. an address the store cannot hold): retrying the whole
      // message would fail the same way, so skip it and let the other recipients commit.
      if (!(err instanceof RelayError) || err.retryable) throw err;
      const address = 'address' in action ? shown(action.address) : undefined;
      log.warn(
        { address, action: action.kind, code: err.code, err: err.message },
        'feedback.recipient_skipped',
      );
    }
  }

  return async (actions, snsMessageId, log) => {
    const counts: StatCounts = new Map();
    let softIndex = 0;
    const runs: Promise<void>[] = [];
    for (const action of actions) {
      if (action.kind === 'count') counts.set(action.field, (counts.get(action.field) ?? 0) + action.by);
      // The policy lists recipients in the message's order, so the n-th soft bounce is the same
      // recipient on every redelivery of this signed message.
      const claim =
        action.kind === 'count-soft-bounce' ? keys.softBounceClaim(snsMessageId, softIndex++) : undefined;
      runs.push(runOrSkip(action, claim, log));
    }
    // Recipients are independent; all must succeed before the ledger commits.
    await Promise.all(runs);
    return counts;
  };
}
