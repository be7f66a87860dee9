// A pause (operator, admin API, reputation guard, SES) stops sending at once, also for jobs already
// waiting in the pacer and for the rest of a multi-chunk message; the hold itself is written in one
// step, and the SES probe lifts only an SES hold. A pause and a resume that cross never leave the
// queue paused with no hold, and the workers' probe tick keeps the queue in line with the hold.
//
// "At once", precisely: an SES call counts as in flight at pause time when the worker had invoked
// the SDK's send for it before pause() resolved (its hold check ran before the hold was written).
// After pause() resolves no SendEmail call may start; SES may still receive those in flight.
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pauseSending, resumeSending } from '../../src/ops/queue-control.js';
import { createSendingHolds, type SendingHolds } from '../../src/queue/holds.js';
import { createDailyQuota } from '../../src/queue/quota.js';
import { createKeys, OUTBOUND_QUEUE } from '../../src/shared/keys.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { queueMessage } from '../helpers/smtp-client.js';
import { waitFor } from '../helpers/wait.js';

/** 50 recipients/s: a 50-recipient chunk fills a whole window, so the chunks of one message go ~1 s apart. */
const RATE = 50;

describe('sending holds', () => {
  let gw: TestGateway;
  let queue: Queue;
  /** As the CLI and the admin API hold them: another connection, another process's view. */
  let holds: SendingHolds;
  let keys: ReturnType<typeof createKeys>;
  /** When the worker invoked the SDK for each SendEmail call (Date.now()). */
  const started: number[] = [];

  beforeAll(async () => {
    gw = await startGateway({ SES_MAX_SEND_RATE: String(RATE) });
    gw.sesClient.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'SendEmailCommand') started.push(Date.now());
        return next(args);
      },
      { step: 'initialize', name: 'testCallStarted' },
    );
    keys = createKeys(gw.config.REDIS_PREFIX);
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: gw.config.REDIS_PREFIX });
    holds = createSendingHolds({
      redis: gw.redis,
      queue,
      holdKey: keys.sendingHold,
      throttleKey: keys.throttle,
    });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
  });
  beforeEach(() => {
    gw.ses.reset();
    started.length = 0;
  });

  const recipientsAtSes = () => gw.ses.sends.flatMap((s) => s.to);

  it('stops every job waiting in the pacer once pause() resolves, and gives back their bookings and reservations', async () => {
    // Queued while paused, so that the pacer fills at once when sending resumes.
    await pauseSending(holds, 'queueing');
    const ids: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            queueMessage(gw.smtpPort, { to: [`p${batch * 20 + i}@example.net`] }),
          ),
        )),
      );
    }
    await resumeSending(holds);
    await waitFor(async () => gw.ses.sends.length >= 5 && (await queue.getActiveCount()) >= 10, {
      what: 'sends going out and jobs waiting in the pacer',
    });

    await pauseSending(holds, 'test pause');
    const ackedAt = Date.now();
    const startedBefore = started.length;
    // Every job leaves the pacer (woken, its booking given back) and goes back to the queue.
    await waitFor(async () => (await queue.getActiveCount()) === 0, { what: 'no job left active' });
    await waitFor(() => gw.ses.calls === gw.ses.sendsReceived && gw.ses.sendsReceived === started.length, {
      what: 'the calls in flight at pause time to be answered',
    });

    expect(started.filter((at) => at > ackedAt)).toEqual([]);
    expect(started).toHaveLength(startedBefore);
    expect(gw.ses.sends.length).toBeLessThan(ids.length);
    // No attempt used by the put-back jobs.
    const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
    expect(jobs.filter((job) => job!.attemptsMade > 0 && !job!.finishedOn)).toEqual([]);
    // Reservations given back: the ledger holds exactly what SES received.
    expect(await createDailyQuota(gw.redis, keys.dailyQuota).sentLast24Hours()).toBe(gw.ses.sends.length);
    // Bookings given back: nothing is booked ahead any more.
    const [seconds] = await gw.redis.time();
    const booked = Object.keys(await gw.redis.hgetall(keys.pacer)).map(Number);
    expect(booked.filter((slot) => slot > Number(seconds) * 1000 + 1000)).toEqual([]);

    await resumeSending(holds);
    await waitFor(() => gw.ses.sends.length === ids.length, { timeoutMs: 15_000, what: 'all to go out' });
    expect(recipientsAtSes().sort()).toEqual(ids.map((_, i) => `p${i}@example.net`).sort());
  });

  afterEach(async () => {
    // A failed test must not leave the next one held.
    await resumeSending(holds);
  });

  it('stops a multi-chunk message between chunks and finishes it after resume without resending a chunk', async () => {
    const to = Array.from({ length: 200 }, (_, i) => `c${i}@example.net`);
    const queueId = await queueMessage(gw.smtpPort, { to });
    await waitFor(() => gw.ses.sends.length === 1, { what: 'the first chunk' });
    await pauseSending(holds, 'between chunks');
    const ackedAt = Date.now();
    await waitFor(async () => (await queue.getJobState(queueId)) !== 'active', { what: 'the job put back' });
    expect(started.filter((at) => at > ackedAt)).toEqual([]);
    const sentWhileHeld = gw.ses.sends.length;
    expect(sentWhileHeld).toBeLessThan(4);
    expect((await queue.getJob(queueId))!.attemptsMade).toBe(0);

    await resumeSending(holds);
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', { timeoutMs: 15_000 });
    expect(gw.ses.sends).toHaveLength(4);
    expect(recipientsAtSes().sort()).toEqual([...to].sort());
  });

  it('writes a hold in one step: a reader never sees a hold without its source', async () => {
    const reader = gw.redis.duplicate();
    let stop = false;
    const incomplete: Record<string, string>[] = [];
    const reading = (async () => {
      while (!stop) {
        const fields = await reader.hgetall(keys.sendingHold);
        if (fields.since !== undefined && fields.by === undefined) incomplete.push(fields);
      }
    })();
    for (let i = 0; i < 300; i++) {
      await gw.redis.del(keys.sendingHold);
      await holds.pause({ reason: `round ${i}`, by: 'reputation' });
    }
    stop = true;
    await reading;
    reader.disconnect();
    expect(incomplete).toEqual([]);
    await resumeSending(holds);
  });

  it("lifts only an SES hold when asked to (the probe), never an operator's pause that replaced it", async () => {
    expect(await holds.pause({ reason: 'SendingPausedException', by: 'ses' })).toBe(true);
    // The operator takes the hold over between the probe's read and its resume.
    expect(await holds.pause({ reason: 'hands off', by: 'operator' })).toBe(false);
    expect(await holds.resume({ onlyBy: 'ses' })).toBe(false);
    expect(await holds.current()).toMatchObject({ by: 'operator', reason: 'hands off' });
    expect(await queue.isPaused()).toBe(true);
    expect(await holds.resume()).toBe(true);
    expect(await holds.current()).toBeUndefined();
    expect(await queue.isPaused()).toBe(false);
  });

  it('never leaves the queue paused with no hold when a resume runs between the two steps of a pause', async () => {
    // Another worker's view of the holds, whose queue.pause() reaches Redis late: its job got
    // SendingPausedException, the hold is written, and meanwhile a resume (this worker's SES probe,
    // or an operator) runs from start to end.
    const slowQueue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: keys.bullPrefix });
    const realPause = slowQueue.pause.bind(slowQueue);
    let letPauseThrough!: () => void;
    const through = new Promise<void>((resolve) => (letPauseThrough = resolve));
    let pauseReached!: () => void;
    const reached = new Promise<void>((resolve) => (pauseReached = resolve));
    slowQueue.pause = async () => {
      pauseReached();
      await through;
      return realPause();
    };
    const slowHolds = createSendingHolds({
      redis: gw.redis,
      queue: slowQueue,
      holdKey: keys.sendingHold,
      throttleKey: keys.throttle,
    });
    try {
      const pausing = slowHolds.pause({ reason: 'SendingPausedException (HTTP 400): paused', by: 'ses' });
      await reached;
      expect(await holds.resume({ onlyBy: 'ses' })).toBe(true);
      letPauseThrough();
      expect(await pausing).toBe(true);

      expect(await holds.current()).toBeUndefined();
      expect(await queue.isPaused()).toBe(false);
      const queueId = await queueMessage(gw.smtpPort, { to: ['after-race@example.net'] });
      await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', {
        timeoutMs: 10_000,
        what: 'the message to be delivered',
      });
    } finally {
      letPauseThrough();
      await slowQueue.close();
    }
  });
});

describe("the workers' probe tick keeps the queue in line with the hold", () => {
  let gw: TestGateway;
  let queue: Queue;
  let holds: SendingHolds;
  let keys: ReturnType<typeof createKeys>;
  const logged = (msg: string) => gw.logs.filter((l) => l.msg.startsWith(msg)).length;

  beforeAll(async () => {
    gw = await startGateway({ SES_PAUSE_PROBE_INTERVAL: '100ms' });
    keys = createKeys(gw.config.REDIS_PREFIX);
    queue = new Queue(OUTBOUND_QUEUE, { connection: gw.redis, prefix: keys.bullPrefix });
    holds = createSendingHolds({
      redis: gw.redis,
      queue,
      holdKey: keys.sendingHold,
      throttleKey: keys.throttle,
    });
  });
  afterAll(async () => {
    await queue.close();
    await gw.stop();
  });
  afterEach(async () => {
    await resumeSending(holds);
  });

  it('resumes a queue left paused with no hold recorded, and the mail goes out', async () => {
    // The end state of a pause and a resume that crossed in an older version (or of a BullMQ pause
    // made outside ses-relay): nothing records why the queue is paused.
    await queue.pause();
    const queueId = await queueMessage(gw.smtpPort, { to: ['unpaused@example.net'] });
    await waitFor(async () => (await queue.getJobState(queueId)) === 'completed', {
      timeoutMs: 10_000,
      what: 'the message to be delivered',
    });
    expect(await queue.isPaused()).toBe(false);
    expect(await holds.current()).toBeUndefined();
    expect(logged('holds.queue_resumed')).toBeGreaterThanOrEqual(1);
  });

  it('pauses a running queue when a hold is recorded', async () => {
    await gw.redis.hset(
      keys.sendingHold,
      'since',
      String(Date.now()),
      'reason',
      'written alone',
      'by',
      'operator',
    );
    await waitFor(async () => await queue.isPaused(), { what: 'the queue to be paused' });
    // The tick logs once BullMQ's pause has returned, a moment after the queue reads as paused.
    await waitFor(() => logged('holds.queue_paused') >= 1, { what: 'the pause to be logged' });
  });

  it("never undoes an operator's pause", async () => {
    const resumedBefore = logged('holds.queue_resumed');
    await pauseSending(holds, 'maintenance');
    const queueId = await queueMessage(gw.smtpPort, { to: ['held@example.net'] });
    const requests = gw.ses.received;
    // Ten probe ticks.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await queue.isPaused()).toBe(true);
    expect(await holds.current()).toMatchObject({ by: 'operator', reason: 'maintenance' });
    expect(await queue.getJobState(queueId)).not.toBe('completed');
    expect(gw.ses.received).toBe(requests);
    expect(logged('holds.queue_resumed')).toBe(resumedBefore);
  });
});
