import { describe, expect, it } from 'vitest';
import {
  decideFeedback,
  DEFAULT_FEEDBACK_POLICY,
  resolvePolicy,
  type FeedbackAction,
} from '../../src/webhook/feedback-policy.js';
import { parseSesEvent } from '../../src/webhook/ses-event.js';

const DAY_MS = 86_400_000;
const RECEIVED_AT = Date.parse('2026-11-22T12:00:00Z');

function bounce(bounceType: string, bounceSubType: string) {
  return parseSesEvent(
    JSON.stringify({
      notificationType: 'Bounce',
      mail: { messageId: 'ses-1', destination: ['jane@example.com'] },
      bounce: { bounceType, bounceSubType, bouncedRecipients: [{ emailAddress: 'jane@example.com' }] },
    }),
  );
}

const first = (actions: FeedbackAction[]) => actions[0]!;

describe('feedback policy: how long a soft-bounce suppression lasts', () => {
  it.each(['General', 'MailboxFull'])(
    'asks the store to let a Transient/%s suppression expire after a week by default',
    (subType) => {
      const action = first(
        decideFeedback(bounce('Transient', subType), DEFAULT_FEEDBACK_POLICY, RECEIVED_AT),
      );
      expect(action).toMatchObject({ kind: 'count-soft-bounce', options: { suppressForMs: 7 * DAY_MS } });
    },
  );

  it('follows the configured lifetime', () => {
    const policy = resolvePolicy({ softBounceSuppressForMs: 14 * DAY_MS });
    const action = first(decideFeedback(bounce('Transient', 'General'), policy, RECEIVED_AT));
    expect(action).toMatchObject({ options: { suppressForMs: 14 * DAY_MS } });
  });

  it('leaves hard bounces and complaints without an expiry', () => {
    const hard = first(decideFeedback(bounce('Permanent', 'General'), DEFAULT_FEEDBACK_POLICY, RECEIVED_AT));
    expect(hard).toMatchObject({ kind: 'suppress' });
    expect(hard.kind === 'suppress' && hard.details.expiresAt).toBeFalsy();
  });

  it('refuses a lifetime that is not a positive whole number of milliseconds', () => {
    expect(() => resolvePolicy({ softBounceSuppressForMs: 0 })).toThrow(/softBounceSuppressForMs/);
    expect(() => resolvePolicy({ softBounceSuppressForMs: 1.5 })).toThrow(/softBounceSuppressForMs/);
  });
});
