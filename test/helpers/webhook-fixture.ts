// The set-up the webhook test files share: a Redis connection, a signer, and a fresh webhook server
// on a clean key prefix before each test. Call it at the top of a file or describe block.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createFeedbackKeys } from '../../src/webhook/keys.js';
import { readDailyStats } from '../../src/webhook/stats.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './redis.js';
import { createSnsSigner, startWebhookServer, type SnsSigner, type WebhookServer } from './sns-signer.js';

export interface WebhookFixture {
  readonly prefix: string;
  readonly keys: ReturnType<typeof createFeedbackKeys>;
  /** Set in beforeAll. */
  redis: Redis;
  signer: SnsSigner;
  /** Replaced before each test. */
  server: WebhookServer;
  /** Today's per-day counters. */
  todayStats: () => Promise<Record<string, number>>;
  /** The server's log lines with this message. */
  logged: (msg: string) => WebhookServer['logs'];
}

export function useWebhookServer(name: string): WebhookFixture {
  const prefix = uniquePrefix(name);
  const keys = createFeedbackKeys(prefix);
  const fixture = {
    prefix,
    keys,
    async todayStats() {
      return (await readDailyStats(fixture.redis, keys, Date.now(), Date.now()))[0]!.counts;
    },
    logged: (msg: string) => fixture.server.logs.filter((line) => line.msg === msg),
  } as WebhookFixture;

  beforeAll(async () => {
    fixture.redis = new Redis(TEST_REDIS_URL);
    fixture.signer = await createSnsSigner();
  });
  beforeEach(async () => {
    await (fixture.server as WebhookServer | undefined)?.close();
    await deleteKeys(fixture.redis, prefix);
    fixture.signer.fetches.length = 0;
    fixture.server = await startWebhookServer({ redis: fixture.redis, prefix, signer: fixture.signer });
  });
  afterAll(async () => {
    await fixture.server.close();
    await deleteKeys(fixture.redis, prefix);
    fixture.redis.disconnect();
  });
  return fixture;
}
