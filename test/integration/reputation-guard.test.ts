import { describe, expect, it } from 'vitest';
import { createFeedbackKeys, utcDay } from '../../src/webhook/index.js';
import { startGateway } from '../helpers/gateway.js';
import { uniquePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
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
      const ready = await fetch(`http://127.0.0.1:${gw.httpPort}/readyz`);
      expect(ready.status).toBe(503);
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
});
