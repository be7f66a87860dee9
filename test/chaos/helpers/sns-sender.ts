// Plays SNS delivering to the gateway's HTTP endpoint: each notification is POSTed until it gets a
// 200 (SNS retries on anything else, and on a connection it cannot make), and some are delivered
// again after their 200, as SNS's at-least-once delivery does.
import type { SnsNotification } from '../../../src/webhook/sns-envelope.js';
import { snsHeaders } from '../../helpers/sns-signer.js';
import { sleep } from './mta-sender.js';

/** SNS's own retry schedule starts with immediate retries, then backs off; shortened here. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 1_000;

export interface SnsDeliveryStats {
  posts: number;
  /** Non-200 answers by status ("503", "500", "network"). */
  refusals: Record<string, number>;
  applied: number;
  duplicate: number;
  /** Notifications that never got a 200 before the deadline. */
  undelivered: string[];
  /** Notifications answered non-200 at least once: their first application may have been cut off. */
  refusedOnce: Set<string>;
}

export async function deliverAll(options: {
  url: string;
  notifications: SnsNotification[];
  /** Delivered a second time after their 200 (choose among the early ones, so the 200 has come). */
  redeliver: Set<string>;
  lanes: number;
  /** Pause between notifications on one lane, to spread the run over the outage. */
  pauseMs: number;
  deadline: number;
}): Promise<SnsDeliveryStats> {
  const stats: SnsDeliveryStats = {
    posts: 0,
    refusals: {},
    applied: 0,
    duplicate: 0,
    undelivered: [],
    refusedOnce: new Set(),
  };
  // Redeliveries go last, after their first delivery got its 200 (SNS redelivers, it does not race).
  const queue = [
    ...options.notifications,
    ...options.notifications.filter((message) => options.redeliver.has(message.MessageId)),
  ];
  let next = 0;

  async function post(message: SnsNotification): Promise<boolean> {
    stats.posts++;
    try {
      const response = await fetch(`${options.url}/sns`, {
        method: 'POST',
        body: JSON.stringify(message),
        headers: snsHeaders(message),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await response.json().catch(() => ({}))) as { status?: string };
      if (response.status === 200) {
        if (body.status === 'applied') stats.applied++;
        else if (body.status === 'duplicate') stats.duplicate++;
        return true;
      }
      stats.refusals[String(response.status)] = (stats.refusals[String(response.status)] ?? 0) + 1;
    } catch {
      stats.refusals.network = (stats.refusals.network ?? 0) + 1;
    }
    stats.refusedOnce.add(message.MessageId);
    return false;
  }

  await Promise.all(
    Array.from({ length: options.lanes }, async () => {
      while (next < queue.length) {
        const message = queue[next++]!;
        for (let attempt = 1; !(await post(message)); attempt++) {
          if (Date.now() > options.deadline) {
            stats.undelivered.push(message.MessageId);
            break;
          }
          await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * attempt));
        }
        await sleep(options.pauseMs);
      }
    }),
  );
  return stats;
}
