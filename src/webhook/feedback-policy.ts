// What an SES event means for the gateway: a pure function from event to actions, table-tested
// against every bounce subtype and complaint type. Bounce rules are data (type/subtype → verdict),
// as zone-mta keeps its bounces.txt. Applying the actions is feedback-apply.ts's job.
import { bareAddress, type SesBounce, type SesComplaint, type SesEvent, type SesMail } from './ses-event.js';
import type { StatField } from './stats.js';
import type { SoftBounceOptions, SuppressionDetails } from './suppression-sink.js';

/**
 * suppress: stop sending to the address. mirror: suppress too, noting that SES's own account list
 * already blocks it (such bounces are outside the bounce rate). soft: count it; the store suppresses
 * at the limit, for softBounceSuppressForMs. record: log it, change nothing.
 */
export type BounceVerdict = 'suppress' | 'mirror' | 'soft' | 'record';

export interface FeedbackPolicy {
  /**
   * Keyed `${bounceType}/${bounceSubType}`; a bounce type alone (`Permanent`) is the fallback for its
   * subtypes. Keys are matched without regard to case.
   */
  bounceRules: Readonly<Record<string, BounceVerdict>>;
  softBounceLimit: number;
  softBounceWindowMs: number;
  /** How long a suppression reached by soft bounces lasts; hard bounces and complaints never expire. */
  softBounceSuppressForMs: number;
  /** Complaint feedback types that do not suppress. */
  complaintIgnoredFeedbackTypes: readonly string[];
  /** A delivery shows the mailbox works again: forget its soft bounces. */
  resetSoftBouncesOnDelivery: boolean;
}

export const DEFAULT_BOUNCE_RULES: Readonly<Record<string, BounceVerdict>> = {
  'Permanent/General': 'suppress',
  'Permanent/NoEmail': 'suppress',
  'Permanent/Suppressed': 'suppress',
  'Permanent/OnAccountSuppressionList': 'mirror',
  'Transient/General': 'soft',
  'Transient/MailboxFull': 'soft',
  'Transient/MessageTooLarge': 'record',
  'Transient/ContentRejected': 'record',
  'Transient/AttachmentRejected': 'record',
  'Undetermined/Undetermined': 'record',
  // A permanent subtype AWS adds later is still a hard bounce; an unknown transient one changes nothing.
  Permanent: 'suppress',
  Transient: 'record',
  Undetermined: 'record',
};

export const DEFAULT_FEEDBACK_POLICY: FeedbackPolicy = Object.freeze({
  bounceRules: lowerKeys(DEFAULT_BOUNCE_RULES),
  softBounceLimit: 3,
  softBounceWindowMs: 14 * 86_400_000,
  // A week: SES does not count transient bounces in the account's bounce rate, so letting the
  // address try again costs little, while a permanent block of a vacationer or a full mailbox loses
  // good mail for good. The counting window starts afresh once it has suppressed, so a mailbox that
  // stays dead takes three more bounces to be blocked for another week.
  softBounceSuppressForMs: 7 * 86_400_000,
  complaintIgnoredFeedbackTypes: ['not-spam'],
  resetSoftBouncesOnDelivery: true,
});

export type FeedbackAction =
  | { kind: 'suppress'; address: string; details: SuppressionDetails; mirror: boolean }
  | { kind: 'count-soft-bounce'; address: string; options: SoftBounceOptions }
  /** `at`: the delivery's time; soft bounces after it (reported out of order) still count. */
  | { kind: 'reset-soft-bounces'; address: string; at: number }
  | { kind: 'record'; event: string; address?: string; detail?: string }
  | { kind: 'count'; field: StatField | `${'bounce' | 'complaint' | 'delay'}:${string}`; by: number };

const VERDICTS: readonly string[] = ['suppress', 'mirror', 'soft', 'record'] satisfies BounceVerdict[];

function lowerKeys(rules: Readonly<Record<string, BounceVerdict>>): Record<string, BounceVerdict> {
  return Object.fromEntries(Object.entries(rules).map(([rule, verdict]) => [rule.toLowerCase(), verdict]));
}

/**
 * Defaults with overrides on top, rule by rule, so one override keeps the rest. An override that names
 * a bounce type alone (`Transient=soft`) covers all of that type's subtypes: the defaults' rules for
 * its subtypes give way, unless the overrides name a subtype too.
 */
function mergeBounceRules(
  overrides: Readonly<Record<string, BounceVerdict>> = {},
): Record<string, BounceVerdict> {
  const given = lowerKeys(overrides);
  const wholeTypes = Object.keys(given).filter((rule) => !rule.includes('/'));
  const defaults = Object.entries(lowerKeys(DEFAULT_BOUNCE_RULES)).filter(
    ([rule]) => !wholeTypes.some((type) => rule.startsWith(`${type}/`)),
  );
  return { ...Object.fromEntries(defaults), ...given };
}

/** Defaults with overrides on top (see mergeBounceRules for the bounce rules). */
export function resolvePolicy(overrides: Partial<FeedbackPolicy> = {}): FeedbackPolicy {
  const bounceRules = mergeBounceRules(overrides.bounceRules);
  const policy = { ...DEFAULT_FEEDBACK_POLICY, ...overrides, bounceRules };
  for (const [rule, verdict] of Object.entries(bounceRules)) {
    if (!VERDICTS.includes(verdict)) throw new Error(`bounce rule ${rule}: unknown verdict ${verdict}`);
  }
  if (!Number.isInteger(policy.softBounceLimit) || policy.softBounceLimit < 1) {
    throw new Error('softBounceLimit must be a whole number of at least 1');
  }
  if (!(policy.softBounceWindowMs > 0)) throw new Error('softBounceWindowMs must be positive');
  if (!Number.isSafeInteger(policy.softBounceSuppressForMs) || policy.softBounceSuppressForMs < 1) {
    throw new Error('softBounceSuppressForMs must be a positive whole number of milliseconds');
  }
  return Object.freeze(policy);
}

export function bounceVerdict(
  policy: FeedbackPolicy,
  bounceType: string,
  bounceSubType: string,
): BounceVerdict {
  const type = bounceType.toLowerCase();
  return policy.bounceRules[`${type}/${bounceSubType.toLowerCase()}`] ?? policy.bounceRules[type] ?? 'record';
}

export function decideFeedback(
  event: SesEvent,
  policy: FeedbackPolicy,
  receivedAt: number,
): FeedbackAction[] {
  switch (event.type) {
    case 'Bounce':
      return decideBounce(event.bounce, event.mail, policy, receivedAt);
    case 'Complaint':
      return decideComplaint(event.complaint, event.mail, policy, receivedAt);
    case 'Delivery': {
      const addresses = uniqueBy(event.delivery.recipients, (r) => r).map((r) => r.address);
      const at = timeOf(event.delivery.timestamp, event.mail.timestamp, receivedAt);
      const resets: FeedbackAction[] = policy.resetSoftBouncesOnDelivery
        ? addresses.map((address) => ({ kind: 'reset-soft-bounces', address, at }))
        : [];
      return [...resets, count('delivered', addresses.length)];
    }
    case 'DeliveryDelay': {
      const delayed = event.deliveryDelay.delayedRecipients.length || event.mail.destination.length;
      const type = event.deliveryDelay.delayType ?? 'Undetermined';
      return [count('delayed', delayed), count(`delay:${type}`, delayed)];
    }
    case 'Send':
      return [count('sent', event.mail.destination.length)];
    case 'Reject':
      return [count('rejected', event.mail.destination.length)];
    case 'Open':
      return [count('opened', 1)];
    case 'Click':
      return [count('clicked', 1)];
    case 'Rendering Failure':
      return [count('rendering_failed', 1)];
    case 'Subscription':
      return [count('subscription', 1)];
    case 'Other':
      return [{ kind: 'record', event: 'feedback.ignored', detail: event.name }];
  }
}

function decideBounce(
  bounce: SesBounce,
  mail: SesMail,
  policy: FeedbackPolicy,
  receivedAt: number,
): FeedbackAction[] {
  const { bounceType, bounceSubType, feedbackId } = bounce;
  const verdict = bounceVerdict(policy, bounceType, bounceSubType);
  const at = timeOf(bounce.timestamp, mail.timestamp, receivedAt);
  const sesMessageId = mail.messageId;
  const actions: FeedbackAction[] = [];
  const recipients = uniqueBy(bounce.bouncedRecipients, (recipient) => recipient.emailAddress);
  for (const { address, item } of recipients) {
    const { diagnosticCode } = item;
    switch (verdict) {
      case 'suppress':
      case 'mirror': {
        const details = {
          reason: 'bounce' as const,
          bounceType,
          bounceSubType,
          diagnosticCode,
          sesMessageId,
          feedbackId,
          at,
        };
        actions.push({ kind: 'suppress', address, details, mirror: verdict === 'mirror' });
        break;
      }
      case 'soft': {
        const details = { bounceSubType, diagnosticCode, sesMessageId, feedbackId };
        const options = {
          at,
          windowMs: policy.softBounceWindowMs,
          limit: policy.softBounceLimit,
          suppressForMs: policy.softBounceSuppressForMs,
          details,
        };
        actions.push({ kind: 'count-soft-bounce', address, options });
        break;
      }
      case 'record':
        actions.push({ kind: 'record', event: 'feedback.bounce.recorded', address, detail: diagnosticCode });
        break;
    }
  }
  const n = recipients.length;
  return [
    ...actions,
    count(bounceStat(bounceType, bounceSubType), n),
    count(`bounce:${bounceType}/${bounceSubType}`, n),
  ];
}

function decideComplaint(
  complaint: SesComplaint,
  mail: SesMail,
  policy: FeedbackPolicy,
  receivedAt: number,
): FeedbackAction[] {
  const feedbackType = complaint.complaintFeedbackType;
  const ignored =
    feedbackType !== undefined &&
    policy.complaintIgnoredFeedbackTypes.some((type) => type.toLowerCase() === feedbackType.toLowerCase());
  const at = timeOf(complaint.timestamp, mail.timestamp, receivedAt);
  const addresses = uniqueBy(complaint.complainedRecipients, (r) => r.emailAddress).map((r) => r.address);
  const actions: FeedbackAction[] = addresses.map((address) => {
    if (ignored)
      return { kind: 'record', event: 'feedback.complaint.ignored', address, detail: feedbackType };
    const details: SuppressionDetails = {
      reason: 'complaint',
      complaintFeedbackType: feedbackType,
      sesMessageId: mail.messageId,
      feedbackId: complaint.feedbackId,
      at,
    };
    return {
      kind: 'suppress',
      address,
      details,
      mirror: complaint.complaintSubType === 'OnAccountSuppressionList',
    };
  });
  const total: StatField =
    complaint.complaintSubType === 'OnAccountSuppressionList'
      ? 'complained_on_account_list'
      : feedbackType?.toLowerCase() === 'not-spam'
        ? 'complained_not_spam'
        : 'complained';
  return [
    ...actions,
    count(total, addresses.length),
    count(`complaint:${feedbackType ?? 'none'}`, addresses.length),
  ];
}

/** The stat follows SES's meaning of the bounce, not our verdict, so the rates match AWS's. */
function bounceStat(bounceType: string, bounceSubType: string): StatField {
  if (bounceType === 'Permanent') {
    return bounceSubType === 'OnAccountSuppressionList' ? 'bounced_on_account_list' : 'bounced_hard';
  }
  return bounceType === 'Transient' ? 'bounced_soft' : 'bounced_undetermined';
}

function count(field: Extract<FeedbackAction, { kind: 'count' }>['field'], by: number): FeedbackAction {
  return { kind: 'count', field, by };
}

/** One entry per address (case-insensitive): a report listing a recipient twice acts once. */
function uniqueBy<T>(items: T[], addressOf: (item: T) => string): { address: string; item: T }[] {
  const byLower = new Map<string, { address: string; item: T }>();
  for (const item of items) {
    const address = bareAddress(addressOf(item));
    if (!byLower.has(address.toLowerCase())) byLower.set(address.toLowerCase(), { address, item });
  }
  return [...byLower.values()];
}

/**
 * Event time for the store (soft-bounce windows, "suppressed at"); a retry computes the same value.
 * A time before 1970 (a producer's zero date) is no time at all: the store refuses it, and a refusal
 * there would answer 503 to the same message for ever.
 */
function timeOf(primary: string | undefined, secondary: string | undefined, fallback: number): number {
  for (const value of [primary, secondary]) {
    const ms = value === undefined ? Number.NaN : Date.parse(value);
    if (ms >= 0) return ms;
  }
  return fallback;
}
