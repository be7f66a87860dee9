import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { readStats } from '../../src/ops/index.js';
import { resumeSending } from '../../src/ops/queue-control.js';
import { createSendingHolds } from '../../src/queue/holds.js';
import { parseReputationReading } from '../../src/queue/reputation-state.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import { createFeedbackKeys, utcDay } from '../../src/webhook/index.js';
import { startGateway } from '../helpers/gateway.js';
import { uniquePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';
import { Redis } from 'ioredis';

describe('reputation guard in the worker', () => {
  it('puts sending on hold before SES would, keeps accepting mail, and reports the rates', async () => {
    const prefix = uniquePrefix('reputation');
    const seed = new Redis(TEST_REDIS_URL);
    const day = createFeedbackKeys(prefix).statsDay(utcDay(Date.now()));
    await seed.hset(day, 'relayed', 2000, 'bounced_hard', 160, 'complained', 1);
    seed.disconnect();
    const gw = await startGateway({ PAUSE_BOUNCE_RATE: '0.06', REPUTATION_MIN_SAMPLE: '1000' }, { prefix });
    try {
      const hold = await gw.redis.hgetall(`${prefix}:hold`);
      expect(hold).toMatchObject({ by: 'reputation' });
      expect(hold.reason).toContain('bounce rate 8.00% reached PAUSE_BOUNCE_RATE');
      expect(gw.logs.some((l) => String(l.msg).startsWith('reputation.paused'))).toBe(true);
      // The hold is no readiness problem: a held pod keeps taking mail, feedback and admin calls.
      const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
      expect(ready.status).toBe(200);
      const accepted = await sendMail(gw.smtpPort, {
        from: 'app@example.com',
        to: ['u@example.net'],
        message: simpleMessage(),
      });
      expect(accepted.data?.code).toBe(250);
      const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
      expect(metrics).toContain('ses_relay_bounce_rate 0.08');
      expect(metrics).toContain('ses_relay_sending_held{by="reputation"} 1');
      expect(gw.ses.calls).toBe(0);
    } finally {
      await gw.stop();
    }
  });

  it('takes an operator resume as an acknowledgement: no new hold unless a rate rises above it', async () => {
    const prefix = uniquePrefix('reputation-ack');
    const day = createFeedbackKeys(prefix).statsDay(utcDay(Date.now()));
    const checkMs = 200;
    const gw = await startGateway(
      {
        ROLES: 'worker',
        PAUSE_BOUNCE_RATE: '0.06',
        REPUTATION_MIN_SAMPLE: '1000',
        REPUTATION_CHECK_INTERVAL: `${checkMs}ms`,
      },
      { prefix },
    );
    await gw.redis.hset(day, 'relayed', 2000, 'bounced_hard', 160);
    const keys = createKeys(prefix);
    const queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix });
    // The operator's view, as the CLI and the admin API hold it.
    const holds = createSendingHolds({
      redis: gw.redis,
      queue,
      holdKey: keys.sendingHold,
      throttleKey: keys.throttle,
    });
    const reading = async () => parseReputationReading(await gw.redis.hget(keys.reputation, 'reading'));
    try {
      await waitFor(async () => (await holds.current())?.by === 'reputation', { what: 'the guard to pause' });
      // Logged once the pause has also paused the queue, a moment after the hold is readable.
      const paused = await waitFor(() => gw.logs.find((l) => String(l.msg).startsWith('reputation.paused')), {
        what: 'the pause to be logged',
      });
      expect(paused.msg).toContain('acknowledges the rates of that moment');
      const { previous } = await resumeSending(holds);
      expect(previous?.by).toBe('reputation');
      const resumedAt = Date.now();
      await waitFor(() => gw.logs.find((l) => String(l.msg).startsWith('reputation.acknowledged')), {
        what: 'the acknowledgement',
      });
      // Several checks later the rates are unchanged and sending stays on.
      await waitFor(async () => ((await reading())?.at ?? 0) > resumedAt + 3 * checkMs, {
        what: 'three more checks',
      });
      expect(await holds.current()).toBeUndefined();
      expect(await queue.isPaused()).toBe(false);
      const stats = await readStats({
        redis: gw.redis,
        prefix,
        queue,
        holds,
        suppression: createSuppressionStore({ redis: gw.redis, prefix }),
      });
      expect(stats.reputation).toMatchObject({
        windowDays: 7,
        sent: 2000,
        bounceRate: 0.08,
        pauseBounceRate: 0.06,
        acknowledged: { bounceRate: 0.08 },
      });
      expect(stats.reputation!.acknowledged!.until).toBeGreaterThan(Date.now() + 6 * 86_400_000);

      // More bounces: 9% is above the 8% acknowledged.
      await gw.redis.hincrby(day, 'bounced_hard', 20);
      const hold = await waitFor(
        async () => {
          const current = await holds.current();
          return current?.by === 'reputation' ? current : undefined;
        },
        { what: 'the guard to pause again' },
      );
      expect(hold.reason).toBe(
        'bounce rate 9.00% reached PAUSE_BOUNCE_RATE and rose above the 8.00% acknowledged',
      );
    } finally {
      await queue.close();
      await gw.stop();
    }
  });
});
