// A stop while Redis is unreachable: nothing can be finished in Redis then, so the gateway stops
// without waiting for it, instead of lasting until the process is cut (SHUTDOWN_TIMEOUT + 15 s, then
// exit 1 from main.ts). BullMQ's own close() waits for its connections to end, which they never do
// while Redis is down.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { PrivateRedis, freePort } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/** Far below SHUTDOWN_TIMEOUT (5 s in the test gateway) plus main.ts's 15 s margin. */
const STOP_DEADLINE_MS = 8000;

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('stopping while Redis is unreachable', () => {
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('stops every role promptly after Redis went away, having delivered what it took before', async () => {
    redis = await new PrivateRedis(await freePort()).start();
    const running = await startGateway({ REDIS_URL: redis.url }, { cleanup: false });
    const sent = await sendMail(running.smtpPort, {
      from: 'app@example.com',
      to: ['before@example.net'],
      message: simpleMessage(),
    });
    expect(sent.data?.code).toBe(250);
    await waitFor(() => running.ses.sends.length === 1, { what: 'the message to reach SES' });

    await redis.kill();
    const stopped = running.stop();
    expect(await settlesWithin(stopped, STOP_DEADLINE_MS)).toBe(true);
    expect(running.logs.some((line) => line.msg === 'app.stopped')).toBe(true);
    // Whether the worker logs worker.stop_without_redis depends on where BullMQ's close was when
    // Redis went: sometimes its connections end on their own. The prompt stop is what counts.
  }, 30_000);
});
