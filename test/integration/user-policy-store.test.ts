// The users' policy in Redis: what the smtp role publishes (auth/policy-publisher.ts) and how the
// worker reads it (queue/user-policy.ts), on real Redis.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyPublisher } from '../../src/auth/policy-publisher.js';
import type { SmtpUser } from '../../src/auth/users-schema.js';
import type { SendJobData } from '../../src/queue/job.js';
import { createUserPolicies, userPolicyOf } from '../../src/queue/user-policy.js';
import { createLogger } from '../../src/shared/logger.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const user = (username: string, limits: Partial<SmtpUser> = {}): SmtpUser => ({
  username,
  allowedSenders: [],
  tags: [],
  ...limits,
});

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

function capturedLogger() {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe("the users' published policy", () => {
  const prefix = uniquePrefix('user-policy');
  let redis: Redis;
  let n = 0;
  const nextKey = () => `${prefix}:user-policy:${++n}`;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('is replaced whole on each publish: a removed user disappears, no users leave no hash', async () => {
    const key = nextKey();
    let users = [user('a', { dailyCap: 10, rateShare: 2.5 }), user('b'), user('c', { dailyCap: 3 })];
    const publisher = createPolicyPublisher({
      redis,
      key,
      users: () => users,
      logger: capturedLogger().logger,
    });
    expect(await publisher.publish()).toBe(true);
    expect(await redis.hgetall(key)).toEqual({
      a: '{"dailyCap":10,"rateShare":2.5}',
      b: '{}',
      c: '{"dailyCap":3}',
    });
    users = [user('a', { dailyCap: 20 })];
    expect(await publisher.publish()).toBe(true);
    expect(await redis.hgetall(key)).toEqual({ a: '{"dailyCap":20}' });
    users = [];
    expect(await publisher.publish()).toBe(true);
    expect(await redis.exists(key)).toBe(0);
  });

  it('says a failed publish once, without rejecting, and publishes again every interval', async () => {
    const key = nextKey();
    const { logger, lines } = capturedLogger();
    // Not connected and no offline queue: every command fails at once, as on a Redis that is down.
    const offline = new Redis(TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const publisher = createPolicyPublisher({
      redis: offline,
      key,
      users: () => [user('a', { dailyCap: 5 })],
      logger,
      intervalMs: 50,
    });
    try {
      expect(await publisher.publish()).toBe(false);
      expect(await publisher.publish()).toBe(false);
      expect(lines.filter((l) => l.msg.startsWith('auth.users.policy_publish_failed'))).toHaveLength(1);
      // Redis answers again (the failed commands may have begun connecting already).
      await offline.connect().catch(() => undefined);
      await waitFor(() => offline.status === 'ready', { what: 'the connection' });
      publisher.start();
      await waitFor(async () => (await redis.hget(key, 'a')) === '{"dailyCap":5}', { what: 'the retry' });
      // Logged once the publisher's own connection has the reply, a moment after another reads the hash.
      await waitFor(() => lines.some((l) => l.msg === 'auth.users.policy_published'), {
        what: 'the recovery to be logged',
      });
      // Lost (a Redis restart without persistence): published again by the next interval.
      await redis.del(key);
      await waitFor(async () => (await redis.exists(key)) === 1, { what: 'the next publish' });
    } finally {
      publisher.stop();
      offline.disconnect();
    }
  });

  it("is used instead of the job's copy when published, and the copy when not", async () => {
    const key = nextKey();
    const policies = createUserPolicies({ redis, key, logger: capturedLogger().logger });
    const job = (name: string) => ({ user: name, userDailyCap: 7, userRateShare: 3 }) as SendJobData;
    await redis.hset(key, { a: '{"dailyCap":100}', none: '{}', broken: '{"dailyCap":-1}', junk: 'x' });
    expect(await userPolicyOf(job('a'), policies)).toEqual({ dailyCap: 100 });
    // In the file with no limits now: none applies, whatever the job carried.
    expect(await userPolicyOf(job('none'), policies)).toEqual({});
    // Not in the hash (a removed user, an older smtp role) or not a policy: the job's copy.
    for (const name of ['gone', 'broken', 'junk'])
      expect(await userPolicyOf(job(name), policies)).toEqual({ dailyCap: 7, rateShare: 3 });
    expect(await userPolicyOf({} as SendJobData, policies)).toEqual({});
    expect(await userPolicyOf(job('a'), undefined)).toEqual({ dailyCap: 7, rateShare: 3 });
  });

  it('is read once per user per cacheMs, unless asked fresh', async () => {
    const key = nextKey();
    let now = 1_000_000;
    const policies = createUserPolicies({
      redis,
      key,
      logger: capturedLogger().logger,
      cacheMs: 5000,
      now: () => now,
    });
    await redis.hset(key, 'a', '{"rateShare":10}');
    expect(await policies.published('a')).toEqual({ rateShare: 10 });
    await redis.hset(key, 'a', '{"rateShare":1}');
    now += 4999;
    expect(await policies.published('a')).toEqual({ rateShare: 10 });
    expect(await policies.published('a', { fresh: true })).toEqual({ rateShare: 1 });
    await redis.hdel(key, 'a');
    now += 5000;
    expect(await policies.published('a')).toBeUndefined();
  });

  it('keeps the last policy read while Redis cannot be read, and says so once', async () => {
    const key = nextKey();
    const { logger, lines } = capturedLogger();
    const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const policies = createUserPolicies({ redis: client, key, logger, cacheMs: 0 });
    try {
      await client.connect();
      await redis.hset(key, 'a', '{"dailyCap":9}');
      expect(await policies.published('a')).toEqual({ dailyCap: 9 });
      client.disconnect();
      expect(await policies.published('a')).toEqual({ dailyCap: 9 });
      expect(await policies.published('b')).toBeUndefined();
      expect(lines.filter((l) => l.msg === 'worker.user_policy_read_failed')).toHaveLength(1);
    } finally {
      client.disconnect();
    }
  });
});
