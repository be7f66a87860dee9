// A Redis filled to maxmemory (noeviction) refuses the workers' writes as well as intake's, so it
// would never empty itself. Intake stops taking mail at REDIS_MEMORY_HIGH_WATER instead: 452 4.3.1
// at MAIL FROM, and mail is taken again once memory is below the mark.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryPercent } from '../../src/smtp/queue-room.js';
import { parseInfo } from '../../src/shared/redis-checks.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis.js';
import { sendMail, simpleMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

const MAX_MEMORY_BYTES = 32 * 1024 * 1024;
const message = { from: 'app@example.com', to: ['user@example.net'], message: simpleMessage() };

describe('intake high-water mark on Redis memory', () => {
  let redis: PrivateRedis;
  let client: Redis;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startPrivateRedis([
      '--maxmemory',
      String(MAX_MEMORY_BYTES),
      '--maxmemory-policy',
      'noeviction',
    ]);
    client = new Redis(redis.url);
    gw = await startGateway({ REDIS_URL: redis.url, REDIS_MEMORY_HIGH_WATER: '50' });
  });
  afterAll(async () => {
    await gw?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  it('answers 452 4.3.1 at MAIL FROM above the mark, with Redis still below maxmemory, and takes mail again below it', async () => {
    expect((await sendMail(gw.smtpPort, message)).data?.code).toBe(250);

    // Well over half of maxmemory, well under all of it: Redis itself would still take writes.
    for (let i = 0; i < 20; i++) await client.set(`filler:${i}`, Buffer.alloc(1024 * 1024, 1));
    const percent = memoryPercent(parseInfo(await client.info('memory')))!;
    expect(percent).toBeGreaterThan(50);
    expect(percent).toBeLessThan(100);

    const refused = await waitFor(
      async () => {
        const result = await sendMail(gw.smtpPort, message);
        return result.mail.code === 452 ? result : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, what: 'MAIL FROM to be refused' },
    );
    expect(refused.mail.text).toBe('4.3.1 Insufficient system storage: the queue is full, try again later');
    const metrics = await (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^ses_relay_messages_refused_total\{reason="queue_full"\} [1-9]/m);

    await client.del(...Array.from({ length: 20 }, (_, i) => `filler:${i}`));
    await waitFor(async () => (await sendMail(gw.smtpPort, message)).data?.code === 250, {
      timeoutMs: 5000,
      intervalMs: 100,
      what: 'intake to take mail again',
    });
  });

  it('is off at 0, and with no maxmemory set', () => {
    expect(memoryPercent({ used_memory: '1000', maxmemory: '0' })).toBeUndefined();
    expect(memoryPercent({ used_memory: '500', maxmemory: '1000' })).toBe(50);
  });
});
