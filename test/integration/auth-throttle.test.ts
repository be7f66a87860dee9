import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthThrottle, type AuthThrottleOptions } from '../../src/auth/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { deleteKeys, freePort, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE_MS = 60_000;

describe('AUTH failure throttle (real Redis)', () => {
  const prefix = uniquePrefix('auth-throttle');
  const logger = createLogger('silent');
  let redisA: Redis;
  let redisB: Redis;
  let test = 0;

  /** Two gateway instances: separate connections, the same Redis and prefix. */
  function instances(overrides: Partial<AuthThrottleOptions> = {}) {
    const options = {
      prefix: `${prefix}:${++test}`,
      maxFailures: 5,
      windowMs: 5 * MINUTE_MS,
      cooldownMs: 15 * MINUTE_MS,
      logger,
      ...overrides,
    };
    return [
      createAuthThrottle({ ...options, redis: redisA }),
      createAuthThrottle({ ...options, redis: redisB }),
    ];
  }

  beforeAll(() => {
    redisA = new Redis(TEST_REDIS_URL);
    redisB = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(redisA, prefix);
    redisA.disconnect();
    redisB.disconnect();
  });

  it('blocks a client after 5 failures counted across two instances', async () => {
    const [a, b] = instances();
    const results = [];
    for (let i = 0; i < 5; i++)
      results.push(await (i % 2 === 0 ? a! : b!).recordFailure('192.0.2.1', `u${i}`));
    expect(results.map((r) => [r.blocked, r.failures])).toEqual([
      [false, 1],
      [false, 2],
      [false, 3],
      [false, 4],
      [true, 5],
    ]);
    for (const instance of [a!, b!]) {
      const decision = await instance.check('192.0.2.1');
      expect(decision).toMatchObject({ blocked: true, reason: 'blocked' });
      expect(decision.retryAfterMs).toBeGreaterThan(14 * MINUTE_MS);
      expect(decision.retryAfterMs).toBeLessThanOrEqual(15 * MINUTE_MS);
    }
    // Other clients are not affected; the IPv4-mapped form of the blocked client is.
    expect(await a!.check('192.0.2.2')).toEqual({ blocked: false, reason: 'allowed', retryAfterMs: 0 });
    expect((await b!.check('::ffff:192.0.2.1')).blocked).toBe(true);
  });

  it('keeps one key per client under the prefix, expiring with the window or the block', async () => {
    const [a] = instances({ maxFailures: 2 });
    await a!.recordFailure('192.0.2.10', 'x');
    await a!.recordFailure('2001:db8::1', 'x');
    const keys = (await redisA.keys(`${prefix}:${test}:*`)).sort();
    expect(keys).toEqual([`${prefix}:${test}:192.0.2.10`, `${prefix}:${test}:2001:db8:0:0::/64`]);
    expect(await redisA.pttl(keys[0]!)).toBeGreaterThan(4 * MINUTE_MS);
    await a!.recordFailure('192.0.2.10', 'x');
    expect(await redisA.hkeys(keys[0]!)).toEqual(['b']);
    expect(await redisA.pttl(keys[0]!)).toBeGreaterThan(14 * MINUTE_MS);
  });

  it('lets the client in again once a short cool-down has passed', async () => {
    const [a, b] = instances({ maxFailures: 2, cooldownMs: 300 });
    await a!.recordFailure('192.0.2.3');
    expect((await b!.recordFailure('192.0.2.3')).blocked).toBe(true);
    const blocked = await a!.check('192.0.2.3');
    expect(blocked.blocked).toBe(true);
    expect(blocked.retryAfterMs).toBeLessThanOrEqual(300);
    const start = Date.now();
    await waitFor(async () => !(await b!.check('192.0.2.3')).blocked, { what: 'the cool-down to end' });
    expect(Date.now() - start).toBeLessThan(2000);
    // The budget starts afresh after the block.
    expect(await a!.recordFailure('192.0.2.3')).toMatchObject({ blocked: false, failures: 1 });
  });

  it('counts only the failures inside the sliding window', async () => {
    const windowMs = 1000;
    const [a] = instances({ maxFailures: 3, windowMs });
    const key = `${prefix}:${test}:192.0.2.4`;
    await a!.recordFailure('192.0.2.4');
    const first = Date.now();
    // The second failure half a window later, as Redis sees it (the key's expiry restarts at each failure).
    await waitFor(async () => (await redisA.pttl(key)) < windowMs / 2, { what: 'half a window' });
    await a!.recordFailure('192.0.2.4');
    await waitFor(() => Date.now() - first > windowMs, { what: 'the first failure to leave the window' });
    expect(await a!.recordFailure('192.0.2.4')).toMatchObject({ blocked: false, failures: 2 });
  });

  it('forgives the typos of the user who then logs in, not guesses at other users', async () => {
    const [a, b] = instances({ maxFailures: 3 });
    await a!.recordFailure('192.0.2.6', 'alice');
    await a!.recordFailure('192.0.2.6', 'bob');
    await b!.recordSuccess('192.0.2.6', 'alice');
    expect(await a!.recordFailure('192.0.2.6', 'carol')).toMatchObject({ blocked: false, failures: 2 });
    await b!.recordSuccess('192.0.2.6', 'alice');
    expect(await a!.recordFailure('192.0.2.6', 'dave')).toMatchObject({ blocked: true, failures: 3 });
    // A success does not lift a block.
    await b!.recordSuccess('192.0.2.6', 'dave');
    expect((await a!.check('192.0.2.6')).blocked).toBe(true);
  });

  it('lets only maxFailures of many parallel attempts through, across two instances', async () => {
    const [a, b] = instances({ maxFailures: 4, busyWaitMs: 0 });
    const decisions = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a! : b!).reserve('192.0.2.20')),
    );
    const allowed = decisions.filter((d) => !d.blocked);
    expect(allowed).toHaveLength(4);
    expect(decisions.filter((d) => d.blocked && d.reason === 'busy')).toHaveLength(26);
    // Each failure settles its attempt; the fourth blocks the client.
    const results = [];
    for (const decision of allowed) {
      if (decision.blocked) continue;
      results.push(await a!.recordFailure('192.0.2.20', 'guess', decision.attempt));
    }
    expect(results.map((r) => r.blocked)).toEqual([false, false, false, true]);
    expect(await b!.reserve('192.0.2.20')).toMatchObject({ blocked: true, reason: 'blocked' });
  });

  it('frees the attempt of a success or a release, and a waiting attempt takes the free one', async () => {
    const [a, b] = instances({ maxFailures: 2, busyWaitMs: 5000 });
    const shared = `${prefix}:${test}`;
    const [impatient] = instances({ maxFailures: 2, busyWaitMs: 0, prefix: shared });
    const first = await a!.reserve('192.0.2.21');
    const second = await b!.reserve('192.0.2.21');
    if (first.blocked || second.blocked) throw new Error('expected two attempts');
    expect(await impatient!.reserve('192.0.2.21')).toMatchObject({ blocked: true, reason: 'busy' });
    // A third waits until one of the two is settled, then gets its turn.
    const third = b!.reserve('192.0.2.21');
    await a!.recordSuccess('192.0.2.21', 'alice', first.attempt);
    const granted = await third;
    if (granted.blocked) throw new Error('expected the freed attempt');
    await b!.release('192.0.2.21', second.attempt);
    // A failure settles its attempt and then counts in its place.
    expect(await a!.recordFailure('192.0.2.21', 'bob', granted.attempt)).toMatchObject({ failures: 1 });
    const fourth = await impatient!.reserve('192.0.2.21');
    expect(fourth).toMatchObject({ blocked: false });
    expect(await impatient!.reserve('192.0.2.21')).toMatchObject({ blocked: true, reason: 'busy' });
  });

  it('answers "unavailable" instead of throwing when Redis is unreachable', async () => {
    const down = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    down.on('error', () => undefined);
    // An offline queue would hold commands until Redis returns; the throttle's own timeout answers.
    const queued = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      maxRetriesPerRequest: null,
      retryStrategy: () => 50,
      lazyConnect: true,
    });
    queued.on('error', () => undefined);
    try {
      for (const redis of [down, queued]) {
        const throttle = createAuthThrottle({
          redis,
          prefix,
          maxFailures: 5,
          windowMs: MINUTE_MS,
          cooldownMs: MINUTE_MS,
          logger,
          timeoutMs: 200,
        });
        const decision = await throttle.check('192.0.2.9');
        expect(decision).toMatchObject({ blocked: true, reason: 'unavailable' });
        expect(decision.retryAfterMs).toBeGreaterThan(0);
        expect(await throttle.recordFailure('192.0.2.9', 'x')).toEqual({
          blocked: false,
          failures: 0,
          retryAfterMs: 0,
        });
        await expect(throttle.recordSuccess('192.0.2.9', 'x')).resolves.toBeUndefined();
        expect(await throttle.reserve('192.0.2.9')).toMatchObject({ blocked: true, reason: 'unavailable' });
        await expect(throttle.release('192.0.2.9', 'abc')).resolves.toBeUndefined();
      }
    } finally {
      down.disconnect();
      queued.disconnect();
    }
  });
});
