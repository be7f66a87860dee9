import { describe, expect, it } from 'vitest';
import {
  decideFeedback,
  DEFAULT_FEEDBACK_POLICY,
  resolvePolicy,
  type FeedbackAction,
  type FeedbackPolicy,
} from '../../src/webhook/feedback-policy.js';
import { parseSesEvent, type SesEvent } from '../../src/webhook/ses-event.js';
import { sesFixture } from '../helpers/sns-signer.js';

const RECEIVED_AT = Date.parse('2026-11-22T12:00:00Z');
const BOUNCE_AT = Date.parse('2026-11-22T11:59:00Z');

function bounceEvent(bounceType: string, bounceSubType: string, recipients = ['jane@example.com']): SesEvent {
  return parseSesEvent(
    JSON.stringify({
      notificationType: 'Bounce',
      mail: { messageId: 'ses-1', timestamp: '2026-11-22T11:58:00Z', destination: recipients },
      bounce: {
        bounceType,
        bounceSubType,
        feedbackId: 'fb-1',
        timestamp: new Date(BOUNCE_AT).toISOString(),
        bouncedRecipients: recipients.map((emailAddress) => ({
          emailAddress,
          diagnosticCode: 'smtp; 550 5.1.1',
        })),
      },
    }),
  );
}

function complaintEvent(feedbackType: string | undefined, complaintSubType: string | null = null): SesEvent {
  return parseSesEvent(
    JSON.stringify({
      notificationType: 'Complaint',
      mail: { messageId: 'ses-2', destination: ['richard@example.com'] },
      complaint: {
        complainedRecipients: [{ emailAddress: 'richard@example.com' }],
        complaintFeedbackType: feedbackType,
        complaintSubType,
        feedbackId: 'fb-2',
        timestamp: new Date(BOUNCE_AT).toISOString(),
      },
    }),
  );
}

/** A compact view: what happens to addresses, then the counters. */
function summary(actions: FeedbackAction[]): string[] {
  return actions.map((action) => {
    switch (action.kind) {
      case 'suppress':
        return `${action.mirror ? 'mirror' : 'suppress'} ${action.address}`;
      case 'count-soft-bounce':
        return `soft ${action.address}`;
      case 'reset-soft-bounces':
        return `reset ${action.address}`;
      case 'record':
        return `record ${action.address ?? action.detail}`;
      case 'count':
        return `${action.field}+${action.by}`;
    }
  });
}

const decide = (event: SesEvent, policy: FeedbackPolicy = DEFAULT_FEEDBACK_POLICY) =>
  decideFeedback(event, policy, RECEIVED_AT);

describe('feedback policy: bounces', () => {
  it.each([
    ['Permanent', 'General', 'suppress jane@example.com', 'bounced_hard'],
    ['Permanent', 'NoEmail', 'suppress jane@example.com', 'bounced_hard'],
    ['Permanent', 'Suppressed', 'suppress jane@example.com', 'bounced_hard'],
    ['Permanent', 'OnAccountSuppressionList', 'mirror jane@example.com', 'bounced_on_account_list'],
    ['Transient', 'General', 'soft jane@example.com', 'bounced_soft'],
    ['Transient', 'MailboxFull', 'soft jane@example.com', 'bounced_soft'],
    ['Transient', 'MessageTooLarge', 'record jane@example.com', 'bounced_soft'],
    ['Transient', 'ContentRejected', 'record jane@example.com', 'bounced_soft'],
    ['Transient', 'AttachmentRejected', 'record jane@example.com', 'bounced_soft'],
    ['Undetermined', 'Undetermined', 'record jane@example.com', 'bounced_undetermined'],
    // Subtypes AWS may add later fall back to their bounce type's rule.
    ['Permanent', 'SomethingNew', 'suppress jane@example.com', 'bounced_hard'],
    ['Transient', 'SomethingNew', 'record jane@example.com', 'bounced_soft'],
    ['Mystery', 'Mystery', 'record jane@example.com', 'bounced_undetermined'],
  ])('%s/%s → %s, counted as %s', (type, subType, action, stat) => {
    expect(summary(decide(bounceEvent(type, subType)))).toEqual([
      action,
      `${stat}+1`,
      `bounce:${type}/${subType}+1`,
    ]);
  });

  it('keeps the evidence on a suppression: type, subtype, diagnostic, SES ids and the bounce time', () => {
    const [action] = decide(bounceEvent('Permanent', 'NoEmail'));
    expect(action).toEqual({
      kind: 'suppress',
      address: 'jane@example.com',
      mirror: false,
      details: {
        reason: 'bounce',
        bounceType: 'Permanent',
        bounceSubType: 'NoEmail',
        diagnosticCode: 'smtp; 550 5.1.1',
        sesMessageId: 'ses-1',
        feedbackId: 'fb-1',
        at: BOUNCE_AT,
      },
    });
  });

  it('asks the store to count a soft bounce with the policy limit and window and the evidence', () => {
    const [action] = decide(bounceEvent('Transient', 'MailboxFull'));
    expect(action).toEqual({
      kind: 'count-soft-bounce',
      address: 'jane@example.com',
      options: {
        at: BOUNCE_AT,
        limit: 3,
        windowMs: 14 * 86_400_000,
        suppressForMs: 7 * 86_400_000,
        details: {
          bounceSubType: 'MailboxFull',
          diagnosticCode: 'smtp; 550 5.1.1',
          sesMessageId: 'ses-1',
          feedbackId: 'fb-1',
        },
      },
    });
  });

  it('acts on every bounced recipient once, counting recipients, and strips display names', () => {
    const event = bounceEvent('Permanent', 'General', [
      'a@example.com',
      'B <b@example.com>',
      'A@example.com',
      'c@example.com',
    ]);
    expect(summary(decide(event))).toEqual([
      'suppress a@example.com',
      'suppress b@example.com',
      'suppress c@example.com',
      'bounced_hard+3',
      'bounce:Permanent/General+3',
    ]);
  });

  it('follows configured rules, limit and window', () => {
    const policy = resolvePolicy({
      bounceRules: {
        ...DEFAULT_FEEDBACK_POLICY.bounceRules,
        'Transient/General': 'record',
        'Undetermined/Undetermined': 'suppress',
      },
      softBounceLimit: 5,
      softBounceWindowMs: 86_400_000,
    });
    expect(summary(decide(bounceEvent('Transient', 'General'), policy))[0]).toBe('record jane@example.com');
    expect(summary(decide(bounceEvent('Undetermined', 'Undetermined'), policy))[0]).toBe(
      'suppress jane@example.com',
    );
    const [soft] = decide(bounceEvent('Transient', 'MailboxFull'), policy);
    expect(soft).toMatchObject({ options: { limit: 5, windowMs: 86_400_000 } });
  });

  it('merges rule overrides over the defaults and refuses unknown verdicts', () => {
    const policy = resolvePolicy({ bounceRules: { 'Transient/General': 'record' } });
    expect(summary(decide(bounceEvent('Transient', 'General'), policy))[0]).toBe('record jane@example.com');
    expect(summary(decide(bounceEvent('Permanent', 'NoEmail'), policy))[0]).toBe('suppress jane@example.com');
    expect(() => resolvePolicy({ bounceRules: { Permanent: 'drop' as 'record' } })).toThrow(
      /unknown verdict drop/,
    );
  });

  it('lets a rule for a whole bounce type cover its subtypes, in any spelling of case', () => {
    const policy = resolvePolicy({
      bounceRules: { Undetermined: 'suppress', transient: 'soft', 'TRANSIENT/contentrejected': 'record' },
    });
    const first = (type: string, subtype: string) => summary(decide(bounceEvent(type, subtype), policy))[0];
    expect(first('Undetermined', 'Undetermined')).toBe('suppress jane@example.com');
    expect(first('Transient', 'MessageTooLarge')).toMatch(/^soft jane@example.com/);
    expect(first('Transient', 'ContentRejected')).toBe('record jane@example.com');
    expect(first('Permanent', 'OnAccountSuppressionList')).toBe('mirror jane@example.com');
  });

  it('ignores complaint feedback types whatever their case', () => {
    const policy = resolvePolicy({ complaintIgnoredFeedbackTypes: ['not-spam'] });
    expect(summary(decide(complaintEvent('Not-Spam'), policy))[0]).toMatch(/^record/);
  });

  it('refuses a policy with a limit below one or a non-positive window', () => {
    expect(() => resolvePolicy({ softBounceLimit: 0 })).toThrow(/softBounceLimit/);
    expect(() => resolvePolicy({ softBounceLimit: 2.5 })).toThrow(/softBounceLimit/);
    expect(() => resolvePolicy({ softBounceWindowMs: 0 })).toThrow(/softBounceWindowMs/);
  });
});

describe('feedback policy: complaints', () => {
  it.each([
    ['abuse', 'suppress', 'complained'],
    ['auth-failure', 'suppress', 'complained'],
    ['fraud', 'suppress', 'complained'],
    ['other', 'suppress', 'complained'],
    ['virus', 'suppress', 'complained'],
    [undefined, 'suppress', 'complained'],
    ['not-spam', 'record', 'complained_not_spam'],
  ])('feedback type %s → %s, counted as %s', (feedbackType, verdict, stat) => {
    expect(summary(decide(complaintEvent(feedbackType)))).toEqual([
      `${verdict} richard@example.com`,
      `${stat}+1`,
      `complaint:${feedbackType ?? 'none'}+1`,
    ]);
  });

  it('mirrors a complaint SES already blocked with its account list, outside the complaint count', () => {
    expect(summary(decide(complaintEvent('abuse', 'OnAccountSuppressionList')))).toEqual([
      'mirror richard@example.com',
      'complained_on_account_list+1',
      'complaint:abuse+1',
    ]);
  });

  it('keeps the feedback type and ids on the suppression', () => {
    const [action] = decide(complaintEvent('abuse'));
    expect(action).toMatchObject({
      details: {
        reason: 'complaint',
        complaintFeedbackType: 'abuse',
        sesMessageId: 'ses-2',
        feedbackId: 'fb-2',
        at: BOUNCE_AT,
      },
    });
  });

  it('suppresses every complained recipient of the AWS examples', () => {
    const withFeedback = parseSesEvent(JSON.stringify(sesFixture('complaint-with-feedback')));
    const without = parseSesEvent(JSON.stringify(sesFixture('complaint-no-feedback')));
    expect(summary(decide(withFeedback))[0]).toBe('suppress richard@example.com');
    expect(summary(decide(without))[0]).toBe('suppress richard@example.com');
  });

  it('can be told to ignore more feedback types', () => {
    const policy = resolvePolicy({ complaintIgnoredFeedbackTypes: ['not-spam', 'other'] });
    expect(summary(decide(complaintEvent('other'), policy))[0]).toBe('record richard@example.com');
  });
});

describe('feedback policy: other events', () => {
  const mail = { messageId: 'ses-3', destination: ['a@example.com', 'b@example.com'] };
  const event = (body: Record<string, unknown>) => parseSesEvent(JSON.stringify({ mail, ...body }));

  it('resets soft bounces of each delivered recipient and counts deliveries', () => {
    const delivery = event({
      eventType: 'Delivery',
      delivery: { recipients: ['a@example.com', 'b@example.com'] },
    });
    expect(summary(decide(delivery))).toEqual(['reset a@example.com', 'reset b@example.com', 'delivered+2']);
    const noReset = resolvePolicy({ resetSoftBouncesOnDelivery: false });
    expect(summary(decide(delivery, noReset))).toEqual(['delivered+2']);
  });

  it.each([
    [{ eventType: 'Send', send: {} }, ['sent+2']],
    [{ eventType: 'Reject', reject: { reason: 'Bad content' } }, ['rejected+2']],
    [{ eventType: 'Open', open: {} }, ['opened+1']],
    [{ eventType: 'Click', click: {} }, ['clicked+1']],
    [{ eventType: 'Rendering Failure', failure: {} }, ['rendering_failed+1']],
    [{ eventType: 'Subscription', subscription: {} }, ['subscription+1']],
    [
      {
        eventType: 'DeliveryDelay',
        deliveryDelay: { delayType: 'MailboxFull', delayedRecipients: [{ emailAddress: 'a@example.com' }] },
      },
      ['delayed+1', 'delay:MailboxFull+1'],
    ],
  ])('counts %o without touching suppressions', (body, expected) => {
    expect(summary(decide(event(body)))).toEqual(expected);
  });

  it('records and otherwise ignores a notification it does not know', () => {
    const other = parseSesEvent(
      JSON.stringify({ notificationType: 'AmazonSnsSubscriptionSucceeded', message: 'ok' }),
    );
    expect(summary(decide(other))).toEqual(['record AmazonSnsSubscriptionSucceeded']);
  });

  it('uses the receive time when the event carries no usable timestamp', () => {
    const undated = parseSesEvent(
      JSON.stringify({
        notificationType: 'Bounce',
        mail: { messageId: 'ses-4', destination: [] },
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: 'x@example.com' }],
        },
      }),
    );
    expect(decide(undated)[0]).toMatchObject({ details: { at: RECEIVED_AT } });
  });
});
