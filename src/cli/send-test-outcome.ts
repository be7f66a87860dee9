// When `send-test` is done, decided from the message's timeline alone. Pure, table-tested.
//
// The mailbox simulator answers each address with one kind of SES event: success@ → Delivery,
// bounce@ → Bounce, complaint@ → Delivery then Complaint. A Delivery while waiting for a Complaint is
// therefore a step on the way, while any other event, or a failed job, ends the test as failed.
import type { TraceEvent } from '../trace/trace-store.js';

export type ExpectedEvent = 'Delivery' | 'Bounce' | 'Complaint';

export type Verdict = { state: 'waiting' } | { state: 'passed' } | { state: 'failed'; reason: string };

export const SIMULATOR = {
  Delivery: 'success@simulator.amazonses.com',
  Bounce: 'bounce@simulator.amazonses.com',
  Complaint: 'complaint@simulator.amazonses.com',
} as const satisfies Record<ExpectedEvent, string>;

/** Events that may come before the expected one without deciding anything. */
const ON_THE_WAY: Record<ExpectedEvent, readonly string[]> = {
  Delivery: ['Send', 'DeliveryDelay'],
  Bounce: ['Send', 'DeliveryDelay'],
  Complaint: ['Send', 'DeliveryDelay', 'Delivery'],
};

export function judge(events: readonly TraceEvent[], expected: ExpectedEvent): Verdict {
  for (const event of events) {
    if (event.type === 'failed') return { state: 'failed', reason: `the message failed: ${event.reason}` };
    if (event.type !== 'ses-event') continue;
    const name = event.event.toLowerCase();
    if (name === expected.toLowerCase()) return { state: 'passed' };
    if (!ON_THE_WAY[expected].some((step) => step.toLowerCase() === name)) {
      return {
        state: 'failed',
        reason: `SES reported ${event.event}${event.detail ? ` (${event.detail})` : ''}, not ${expected}`,
      };
    }
  }
  return { state: 'waiting' };
}
