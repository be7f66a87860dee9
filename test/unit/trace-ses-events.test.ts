import { describe, expect, it } from 'vitest';
import { eventTime } from '../../src/trace/ses-events.js';
import { parseSesEvent, type SesEvent } from '../../src/webhook/ses-event.js';
import { sesFixture } from '../helpers/sns-signer.js';

type TracedEvent = Exclude<SesEvent, { type: 'Other' }>;

function fixtureEvent(
  name: string,
  edit?: (body: Record<string, Record<string, unknown>>) => void,
): TracedEvent {
  const body = sesFixture(name) as Record<string, Record<string, unknown>>;
  edit?.(body);
  return parseSesEvent(JSON.stringify(body)) as TracedEvent;
}

describe('timeline time of an SES event', () => {
  const now = Date.UTC(2026, 10, 22);

  it.each([
    ['bounce-permanent', 'bounce'],
    ['complaint-with-feedback', 'complaint'],
    ['delivery', 'delivery'],
    ['delivery-delay', 'deliveryDelay'],
  ])('uses the time SES gives in %s, not the arrival time', (name, part) => {
    const event = fixtureEvent(name, (body) => (body[part]!.timestamp = '2026-11-20T08:30:00.000Z'));
    expect(eventTime(event, now)).toBe(Date.parse('2026-11-20T08:30:00.000Z'));
  });

  it('uses the send time for event types without a time of their own', () => {
    expect(eventTime(fixtureEvent('reject'), now)).toBe(Date.parse('2016-10-14T17:38:15.211Z'));
  });

  it.each([undefined, 'not a time', ''])('falls back to the arrival time for a timestamp of %j', (stated) => {
    const event = fixtureEvent('bounce-permanent', (body) => {
      if (stated === undefined) delete body.bounce!.timestamp;
      else body.bounce!.timestamp = stated;
    });
    expect(eventTime(event, now)).toBe(now);
  });
});
