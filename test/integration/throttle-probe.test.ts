// After a throttle back-off ends, one SES call probes while every other caller waits for its answer:
// a success lets them all go, a throttled answer starts the next back-off, any other ending passes
// the probe on at once, and a holder that never reports loses it when its lease runs out.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSendingHolds, type GateOptions, type SendingHolds } from '../../src/queue/holds.js';
import type { SendJobData } from '../../src/queue/job.js';
import { createSendGate, type Cleared } from '../../src/queue/send-gate.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';

const data = { queueId: 'q' } as SendJobData;

describe('the probe after a throttle back-off', () => {
  const prefix = uniquePrefix('probe');
  const keys = createKeys(prefix);
  let redis: Redis;
  let queue: Queue;
  let holds: SendingHolds;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    queue = new Queue(OUTBOUND_QUEUE, { connection: redis, prefix });
    holds = createSendingHolds({ redis, queue, holdKey: keys.sendingHold, throttleKey: keys.throttle });
  });
  afterEach(async () => {
    await redis.del(keys.throttle);
  });
  afterAll(async () => {
    await queue.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  /** A gate over the real holds that counts the answers telling a caller to wait for a probe. */
  function setUp(probeLeaseMs?: number) {
    const counted = { waitsForProbe: 0 };
    const watched: SendingHolds = {
      ...holds,
      async gate(options?: GateOptions) {
        const answer = await holds.gate(options);
        if (answer.throttleRemembered && answer.throttleMs > 0 && !answer.probing) counted.waitsForProbe++;
        return answer;
      },
    };
    const gate = createSendGate({
      holds: watched,
      logger: createLogger('silent'),
      pacer: undefined,
      probeLeaseMs,
    });
    const cleared: Cleared[] = [];
    const callers = (n: number) =>
      Array.from({ length: n }, () => gate.clearToSend(data, 1).then((c) => void cleared.push(c)));
    return { gate, cleared, counted, callers };
  }

  /** Starts a back-off of `ms` and waits until it has ended (its length stays remembered). */
  async function backOffEnded(ms: number) {
    await holds.throttle({ baseMs: ms, maxMs: 10_000, jitter: 1 });
    await waitFor(async () => (await holds.throttleRemainingMs()) === 0, { what: 'the back-off to end' });
  }

  it('lets one call through while the others wait, and all of them once it succeeds', async () => {
    const { gate, cleared, counted, callers } = setUp();
    await backOffEnded(50);
    // Looking (before the quota is reserved) does not take the probe.
    expect(await holds.gate()).toMatchObject({ throttleMs: 0, throttleRemembered: true, probing: false });

    const all = callers(8);
    await waitFor(() => cleared.length >= 1, { what: 'the probe' });
    // Each of the 7 others asked twice while the probe was out, and none was let through.
    await waitFor(() => counted.waitsForProbe >= 14, { what: 'the others to ask again' });
    expect(cleared).toHaveLength(1);
    expect(cleared[0]!.probeToken).toBeDefined();

    gate.sent(cleared[0]!);
    await Promise.all(all);
    expect(cleared).toHaveLength(8);
    expect(cleared.slice(1).every((c) => c.probeToken === undefined)).toBe(true);
    expect((await holds.gate()).throttleRemembered).toBe(false);
  });

  it('starts the next, doubled back-off when the probe is throttled, and probes once again after it', async () => {
    const { gate, cleared, counted, callers } = setUp();
    await backOffEnded(100);
    const all = callers(6);
    await waitFor(() => cleared.length >= 1, { what: 'the first probe' });
    const next = await gate.throttled();
    expect(next).toMatchObject({ started: true, backoffMs: 200 });

    await waitFor(() => cleared.length >= 2, { what: 'the second probe' });
    const before = counted.waitsForProbe;
    await waitFor(() => counted.waitsForProbe >= before + 8, { what: 'the others to ask again' });
    expect(cleared).toHaveLength(2);
    expect(cleared[1]!.probeToken).toBeDefined();
    gate.sent(cleared[1]!);
    await Promise.all(all);
    expect(cleared).toHaveLength(6);
  });

  it('keeps the back-off remembered for as long as the probe is leased', async () => {
    const { gate } = setUp(120_000);
    await backOffEnded(50);
    // The length is remembered for 30 s after a back-off ends; a probe leased for longer extends it,
    // so a holder that dies mid-call does not free every waiting caller when the memory runs out.
    const probe = await gate.clearToSend(data, 1);
    expect(probe.probeToken).toBeDefined();
    expect(await redis.pttl(keys.throttle)).toBeGreaterThan(120_000);
    expect(await holds.gate({ probeToken: 'another caller' })).toMatchObject({ probing: false });
  });

  it('passes the probe on at once when its call ends otherwise, and after the lease when its holder is gone', async () => {
    const released = setUp(60_000);
    await backOffEnded(50);
    const first = released.callers(3);
    await waitFor(() => released.cleared.length >= 1, { what: 'the probe' });
    // A 60 s lease: only the release can let the next caller probe within the wait below.
    released.gate.failed(released.cleared[0]!);
    await waitFor(() => released.cleared.length >= 2, { what: 'the next probe', timeoutMs: 5000 });
    expect(released.cleared[1]!.probeToken).toBeDefined();
    expect(released.cleared[1]!.probeToken).not.toBe(released.cleared[0]!.probeToken);
    released.gate.sent(released.cleared[1]!);
    await Promise.all(first);

    const abandoned = setUp(300);
    await backOffEnded(50);
    const second = abandoned.callers(2);
    await waitFor(() => abandoned.cleared.length >= 1, { what: 'the probe' });
    await waitFor(() => abandoned.cleared.length >= 2, { what: 'the lease to run out' });
    expect(abandoned.cleared[1]!.probeToken).toBeDefined();
    abandoned.gate.sent(abandoned.cleared[1]!);
    await Promise.all(second);
  });
});
