// The shared throttle back-off: started once per period however many throttled answers arrive,
// doubled only when SES throttles again after it ended, cleared by a success; and waited out right
// before each SES call by jobs already waiting in the pacer.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSendingHolds } from '../../src/queue/holds.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway } from '../helpers/gateway.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const THROTTLED = {
  status: 429,
  type: 'TooManyRequestsException',
  message: 'Maximum sending rate exceeded.',
};

describe('throttle back-off', () => {
  const prefix = uniquePrefix('throttle');
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('is started once per period by any worker, doubles only after it ended, and a success resets it', async () => {
    const keys = createKeys(prefix);
    const queue = new Queue(OUTBOUND_QUEUE, { connection: redis, prefix });
    // Two workers' views, each on its own connection.
    const other = new Redis(TEST_REDIS_URL);
    const holdsOn = (conn: Redis) =>
      createSendingHolds({ redis: conn, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
    const [a, b] = [holdsOn(redis), holdsOn(other)];
    const options = { baseMs: 100, maxMs: 700, jitter: 1 };
    try {
      // A burst of throttled answers (calls made before the back-off) starts one back-off.
      const burst = await Promise.all([a, b, a, b, a].map((holds) => holds.throttle(options)));
      expect(burst.filter((start) => start.started)).toHaveLength(1);
      expect(burst.map((start) => start.backoffMs)).toEqual([100, 100, 100, 100, 100]);
      expect((await b.gate()).throttleMs).toBeLessThanOrEqual(100);

      // Throttled again after it ended: doubled, once.
      await waitFor(async () => (await a.throttleRemainingMs()) === 0, { what: 'the back-off to end' });
      expect((await a.gate()).throttleRemembered).toBe(true);
      const again = await Promise.all([b.throttle(options), a.throttle(options)]);
      // Either of the two may be the one that starts it.
      expect(again.filter((start) => start.started)).toHaveLength(1);
      expect(again.map((start) => start.backoffMs)).toEqual([200, 200]);
      await waitFor(async () => (await a.throttleRemainingMs()) === 0, {
        what: 'the second back-off to end',
      });
      expect((await b.throttle(options)).backoffMs).toBe(400);
      await waitFor(async () => (await a.throttleRemainingMs()) === 0, { what: 'the third back-off to end' });
      expect((await b.throttle(options)).backoffMs).toBe(700);

      // A success after the back-off: the next throttle starts from the base again.
      await waitFor(async () => (await a.throttleRemainingMs()) === 0, {
        what: 'the capped back-off to end',
      });
      await a.throttleCleared();
      expect((await a.gate()).throttleRemembered).toBe(false);
      expect(await b.throttle(options)).toMatchObject({ started: true, backoffMs: 100 });
    } finally {
      other.disconnect();
      await queue.close();
    }
  });

  it('keeps jobs already waiting in the pacer from calling SES during a back-off, and escalates once per period in a 429 storm', async () => {
    const gw = await startGateway({ SES_MAX_SEND_RATE: '20' });
    const queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    try {
      let stormUntil = 0;
      const answers: { at: number; throttled: boolean }[] = [];
      gw.ses.onSend(() => {
        const throttled = Date.now() < stormUntil;
        answers.push({ at: Date.now(), throttled });
        return throttled ? THROTTLED : undefined;
      });
      const ids: string[] = [];
      for (let batch = 0; batch < 3; batch++) {
        ids.push(
          ...(await Promise.all(
            Array.from({ length: 15 }, (_, i) =>
              queueMessage(gw.smtpPort, { to: [`s${batch}-${i}@example.net`] }),
            ),
          )),
        );
      }
      await waitFor(async () => answers.length >= 3 && (await queue.getActiveCount()) >= 8, {
        what: 'sends going out and jobs waiting in the pacer',
      });
      // SES throttles every call for 2.5 s: at 20/s, about 50 calls if nothing held them back. The
      // first back-off (1 s, jitter ±25 %) always ends inside the storm, so its probe is throttled.
      stormUntil = Date.now() + 2500;
      for (const id of ids)
        await waitFor(async () => (await queue.getJobState(id)) === 'completed', { timeoutMs: 20_000 });

      const throttled = answers.filter((answer) => answer.throttled);
      const backoffs = gw.logs.filter((l) => l.msg === 'ses.throttled').map((l) => Number(l.backoffMs));
      // The calls in flight when the storm began, then one probe per back-off period (1 s, then 2 s):
      // not the second's worth of waiting jobs that the pacer would let go at once when one ends.
      expect(throttled.length).toBeLessThanOrEqual(6);
      expect(Math.max(...backoffs)).toBeLessThanOrEqual(2000);
      expect(gw.ses.sends).toHaveLength(ids.length);
      const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
      expect(jobs.every((job) => job!.attemptsMade === 1)).toBe(true);
    } finally {
      await queue.close();
      await gw.stop();
    }
  });
});
