// The global send-rate pacer: every worker, in any process on any host, books its SES send times in
// one Redis hash, so the recipients per second that reach SES stay under the rate in every sliding
// second. Callers await `acquire(n)` right before each SendEmail call of n recipients.
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { createRedisClock } from './redis-clock.js';
import { releaseReservation, reserveSendTime, type BookedSlot } from './reserve-script.js';

/** SES counts its MaxSendRate per second. */
const SES_WINDOW_MS = 1000;
/** Bookings are rounded up to this; it bounds the hash at about (window / slot) fields. */
export const PACER_SLOT_MS = 5;
/**
 * How far arrival at SES may trail the booked time beyond what the pacer checks itself: the Redis
 * reply, the timer, the event loop and the HTTP request. The window is this much longer than a
 * second, so every one-second span at SES falls inside one booked window; it costs its share of
 * throughput (30 ms → at most 97.1% of the rate).
 */
export const DEFAULT_PACER_MARGIN_MS = 30;
/** A late wake-up is re-booked this many times at most, then sent anyway (see `acquireOnce`). */
const MAX_REBOOKINGS = 3;
/** Extra TIME round trips to pin the Redis clock when a booking reply was slow. */
const CALIBRATION_TRIES = 3;

export interface PacerOptions {
  /** A connection that stays usable while the pacer runs; the pacer does not close it. */
  redis: Redis;
  /** The one key that every cooperating pacer shares. */
  key: string;
  /** Recipients per second, SES's unit. */
  ratePerSecond: number;
  marginMs?: number;
}

export interface PacerStats {
  acquired: number;
  recipients: number;
  /** Wake-ups that came too late to be sent and were booked again. */
  rebooked: number;
  /** Sends that went ahead although still late after MAX_REBOOKINGS: the bound is not assured. */
  lateSends: number;
}

export interface Pacer {
  /** Resolves when `recipients` may go to SES now; rejects with the signal's reason on abort. */
  acquire(recipients: number, signal?: AbortSignal): Promise<void>;
  setRate(ratePerSecond: number): void;
  readonly ratePerSecond: number;
  /** The booked window: one second plus the margin, in whole slots. */
  readonly windowMs: number;
  stats(): PacerStats;
  /** Rejects pending acquires (their bookings are given back) and waits for them to settle. */
  close(): Promise<void>;
}

export function createPacer(options: PacerOptions): Pacer {
  const { redis, key } = options;
  const marginMs = options.marginMs ?? DEFAULT_PACER_MARGIN_MS;
  if (!(marginMs >= 0)) throw new RangeError(`pacer margin must be >= 0 ms, got ${marginMs}`);
  const windowMs = Math.ceil((SES_WINDOW_MS + marginMs) / PACER_SLOT_MS) * PACER_SLOT_MS;
  // Two thirds of the margin for what the pacer checks (clock bracket, timer, event loop), a third for
  // what it cannot see: the SES call leaving this process and reaching SES.
  const lateToleranceMs = (marginMs * 2) / 3;
  // The clock bracket eats into the tolerance; keep it to a quarter.
  const maxClockUncertaintyMs = lateToleranceMs / 4;
  let rate = validRate(options.ratePerSecond);
  const closing = new AbortController();
  // Every waiting caller listens for close; hundreds waiting at once is normal, not a leak.
  setMaxListeners(0, closing.signal);
  const pending = new Set<Promise<void>>();
  const stats: PacerStats = { acquired: 0, recipients: 0, rebooked: 0, lateSends: 0 };
  const clock = createRedisClock();

  async function acquireOnce(recipients: number, signal: AbortSignal | undefined): Promise<void> {
    let giveBack: BookedSlot[] = [];
    for (let attempt = 0; ; attempt++) {
      const askedAt = performance.now();
      let booking;
      try {
        booking = await reserveSendTime(redis, key, {
          recipients,
          cap: rate,
          windowMs,
          slotMs: PACER_SLOT_MS,
          giveBack,
        });
        clock.observe(booking.redisNowMs, askedAt, performance.now());
        if (clock.uncertaintyMs() > maxClockUncertaintyMs) await calibrate();
      } catch (err) {
        await release(booking?.slots ?? giveBack);
        throw err;
      }
      giveBack = booking.slots;
      const lastChance = attempt === MAX_REBOOKINGS;
      // Sending later than this may land in a window that later bookings already filled.
      const latestAt = clock.earliestLocal(booking.atMs) + lateToleranceMs;
      // Already too late (a stalled event loop held the reply): book again without sleeping.
      if (performance.now() > latestAt && !lastChance) {
        stats.rebooked++;
        continue;
      }
      try {
        await sleepUntil(clock.surelyPassedLocal(booking.atMs), signal, closing.signal);
      } catch (err) {
        await release(booking.slots);
        throw err;
      }
      if (performance.now() <= latestAt) break;
      if (lastChance) {
        // An event loop this stalled would keep missing its slot; going ahead beats never sending,
        // and the counter makes it visible.
        stats.lateSends++;
        break;
      }
      stats.rebooked++;
    }
    stats.acquired++;
    stats.recipients += recipients;
  }

  /** A script reply that took long (cold connection, busy loop) says little about Redis time: ask again. */
  async function calibrate(): Promise<void> {
    for (let i = 0; i < CALIBRATION_TRIES && clock.uncertaintyMs() > maxClockUncertaintyMs; i++) {
      const sentAt = performance.now();
      const [seconds, micros] = await redis.time();
      clock.observe(Number(seconds) * 1000 + Number(micros) / 1000, sentAt, performance.now());
    }
  }

  async function release(slots: BookedSlot[]): Promise<void> {
    try {
      await releaseReservation(redis, key, slots);
    } catch {
      // Unreleased capacity stays booked until its window passes: slower, never over the rate.
    }
  }

  return {
    acquire(recipients, signal) {
      if (!Number.isInteger(recipients) || recipients < 1) {
        return Promise.reject(new RangeError(`recipients must be a positive integer, got ${recipients}`));
      }
      if (closing.signal.aborted) return Promise.reject(closing.signal.reason);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const done = acquireOnce(recipients, signal);
      const tracked = done.then(
        () => undefined,
        () => undefined,
      );
      pending.add(tracked);
      void tracked.then(() => pending.delete(tracked));
      return done;
    },
    setRate(ratePerSecond) {
      // New bookings use it at once; bookings already made keep their times, so a lower rate is
      // fully in force after the furthest booking plus one window.
      rate = validRate(ratePerSecond);
    },
    get ratePerSecond() {
      return rate;
    },
    windowMs,
    stats: () => ({ ...stats }),
    async close() {
      if (!closing.signal.aborted) closing.abort(new DOMException('pacer closed', 'AbortError'));
      await Promise.all(pending);
    },
  };
}

function validRate(ratePerSecond: number): number {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new RangeError(`pacer rate must be a positive number of recipients per second, got ${ratePerSecond}`);
  }
  return ratePerSecond;
}

/** Sleeps until a performance.now() instant, never waking early; rejects when either signal aborts. */
function sleepUntil(at: number, signal: AbortSignal | undefined, closing: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = signal?.aborted ? signal : closing.aborted ? closing : undefined;
    if (aborted) return reject(aborted.reason);
    let timer: NodeJS.Timeout | undefined;
    const cleanUp = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      closing.removeEventListener('abort', onAbort);
    };
    function onAbort(this: AbortSignal) {
      cleanUp();
      reject(this.reason);
    }
    const arm = () => {
      const leftMs = at - performance.now();
      if (leftMs <= 0) {
        cleanUp();
        return resolve();
      }
      // Timers may fire a fraction of a millisecond early; arm() checks again and re-arms.
      timer = setTimeout(arm, Math.ceil(leftMs));
    };
    signal?.addEventListener('abort', onAbort);
    closing.addEventListener('abort', onAbort);
    arm();
  });
}
