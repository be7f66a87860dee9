// The global send-rate pacer: every worker, in any process on any host, books its SES send times in
// one Redis hash, so the recipients per second that reach SES stay under the rate in every sliding
// second. A worker awaits `acquire(n)` right before each SendEmail call of n recipients and sends at
// once: the guarantee covers the time from that promise resolving to SES receiving the call only up
// to a third of the margin (see DEFAULT_PACER_MARGIN_MS). The worker's hold check (one Redis round
// trip, queue/send-gate.ts) falls in that third.
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { createRedisClock } from './redis-clock.js';
import { redisTimeAt, releaseReservation, reserveSendTime, type BookedSlot } from './booking.js';

/** SES counts its MaxSendRate per second. */
const SES_WINDOW_MS = 1000;
/** Bookings are rounded up to this; it bounds the hash at about (window / slot) fields. */
export const PACER_SLOT_MS = 5;
/**
 * How much later than its booked slot a send may reach SES. The window is one second plus this, so
 * every one-second span of arrivals at SES lies inside one booked window as long as each send arrives
 * within the margin after its slot. It costs throughput: 25 ms → at most 97.6% of the rate. Measured
 * on a 2-core host, from `acquire` resolving to arrival at a local fake SES: p99 5–15 ms. Raise it
 * where the path to SES is longer or jittery (TLS to a remote region, an overloaded host).
 */
export const DEFAULT_PACER_MARGIN_MS = 25;
/**
 * A slot that already has a booking takes at most this many times its even share of the rate, and
 * at least one full SES call's worth (below ~2,500/s that floor decides, and spreading costs fill):
 * at high rates sends then leave spread over the window rather than in bursts, which the event
 * loop, the network and SES would smear past the margin.
 */
const SLOT_BURST_FACTOR = 4;
const MIN_SLOT_CAP = 50;

/** Recipients a non-empty slot may hold at this rate and window. */
export function slotCapFor(ratePerSecond: number, windowMs: number): number {
  return Math.max(MIN_SLOT_CAP, ((ratePerSecond * PACER_SLOT_MS) / windowMs) * SLOT_BURST_FACTOR);
}

/** A late wake-up is re-booked this many times at most, then sent anyway (see `acquireOnce`). */
const MAX_REBOOKINGS = 3;
/**
 * How far ahead of its send a caller keeps a booking. A booking further out is held (it keeps the
 * caller's place) until its slot is this close, then booked again at the rate then in force: a lower
 * rate from GetAccount therefore applies to every send more than this far off, instead of after every
 * booking already made (each worker keeps PACER_WAITING_SLOTS callers waiting here). Two seconds
 * keep the window after the next one booked, which is what filling gaps between large chunks needs.
 */
export const MAX_BOOKING_AHEAD_MS = 2000;
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
  /** Bookings more than MAX_BOOKING_AHEAD_MS ahead, booked again once their slot came that close. */
  deferred: number;
  /** How precisely this process knows Redis time (ms); it counts against the margin. */
  clockUncertaintyMs: number;
}

/** A send time that has come. */
export interface PacerBooking {
  /**
   * Gives the booking back when the send will not happen after all (sending was put on hold, a
   * throttle back-off began): its capacity goes to other senders. Safe to call more than once.
   */
  giveBack(): Promise<void>;
  /** Sent late after MAX_REBOOKINGS re-bookings (counted in PacerStats.lateSends). */
  readonly late: boolean;
}

export interface Pacer {
  /** Resolves when `recipients` may go to SES now; rejects with the signal's reason on abort. */
  acquire(recipients: number, signal?: AbortSignal): Promise<PacerBooking>;
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
  if (!(marginMs > 0)) throw new RangeError(`pacer margin must be > 0 ms, got ${marginMs}`);
  const windowMs = Math.ceil((SES_WINDOW_MS + marginMs) / PACER_SLOT_MS) * PACER_SLOT_MS;
  // Two thirds of the margin for what the pacer checks (clock bracket, timer, event loop: a later
  // wake-up is booked again), a third for what it cannot see: the SES request leaving and arriving.
  const lateToleranceMs = (marginMs * 2) / 3;
  // The clock bracket eats into the tolerance; keep it to a quarter.
  const maxClockUncertaintyMs = lateToleranceMs / 4;
  let rate = validRate(options.ratePerSecond);
  const closing = new AbortController();
  // Every waiting caller listens for close; hundreds waiting at once is normal, not a leak.
  setMaxListeners(0, closing.signal);
  const pending = new Set<Promise<void>>();
  const stats = { acquired: 0, recipients: 0, rebooked: 0, lateSends: 0, deferred: 0 };
  const clock = createRedisClock();

  async function acquireOnce(recipients: number, signal: AbortSignal | undefined): Promise<PacerBooking> {
    let giveBack: BookedSlot[] = [];
    let late = false;
    for (let attempt = 0; ;) {
      const askedAt = performance.now();
      let booking;
      try {
        booking = await reserveSendTime(redis, key, {
          recipients,
          cap: rate,
          windowMs,
          slotMs: PACER_SLOT_MS,
          slotCap: slotCapFor(rate, windowMs),
          giveBack,
        });
        clock.observe(booking.redisNowMs, askedAt, performance.now());
        if (clock.uncertaintyMs() > maxClockUncertaintyMs) await calibrate();
      } catch (err) {
        await release(booking?.slots ?? giveBack);
        throw err;
      }
      giveBack = booking.slots;
      if (booking.atMs - booking.redisNowMs > MAX_BOOKING_AHEAD_MS) {
        // Far off: wait, keeping the place, until the slot is MAX_BOOKING_AHEAD_MS away, then book
        // again (giving this one back in the same step) at the rate then in force.
        try {
          await sleepUntil(
            clock.surelyPassedLocal(booking.atMs - MAX_BOOKING_AHEAD_MS),
            signal,
            closing.signal,
          );
        } catch (err) {
          await release(booking.slots);
          throw err;
        }
        stats.deferred++;
        continue;
      }
      const lastChance = attempt === MAX_REBOOKINGS;
      // Sending later than this may land in a window that later bookings already filled.
      const latestAt = clock.earliestLocal(booking.atMs) + lateToleranceMs;
      // Already too late (a stalled event loop held the reply): book again without sleeping.
      if (performance.now() > latestAt && !lastChance) {
        stats.rebooked++;
        attempt++;
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
        late = true;
        break;
      }
      stats.rebooked++;
      attempt++;
    }
    stats.acquired++;
    stats.recipients += recipients;
    let given = false;
    const slots = giveBack;
    return {
      late,
      async giveBack() {
        if (given) return;
        given = true;
        await release(slots);
      },
    };
  }

  /** A script reply that took long (cold connection, busy loop) says little about Redis time: ask again. */
  async function calibrate(): Promise<void> {
    for (let i = 0; i < CALIBRATION_TRIES && clock.uncertaintyMs() > maxClockUncertaintyMs; i++) {
      const sentAt = performance.now();
      const redisMs = await redisTimeAt(redis, key);
      clock.observe(redisMs, sentAt, performance.now());
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
      if (closing.signal.aborted) return Promise.reject(abortError(closing.signal));
      if (signal?.aborted) return Promise.reject(abortError(signal));
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
      // New bookings use it at once. Bookings already made keep their times only when they are at
      // most MAX_BOOKING_AHEAD_MS ahead (further ones are booked again before they are sent), so a
      // lower rate is fully in force after MAX_BOOKING_AHEAD_MS plus one window.
      rate = validRate(ratePerSecond);
    },
    get ratePerSecond() {
      return rate;
    },
    windowMs,
    stats: () => ({ ...stats, clockUncertaintyMs: clock.uncertaintyMs() }),
    async close() {
      if (!closing.signal.aborted) closing.abort(new DOMException('pacer closed', 'AbortError'));
      await Promise.all(pending);
    },
  };
}

function validRate(ratePerSecond: number): number {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new RangeError(
      `pacer rate must be a positive number of recipients per second, got ${ratePerSecond}`,
    );
  }
  return ratePerSecond;
}

/** The signal's reason when it is an Error (AbortSignal.timeout's TimeoutError, say), else an AbortError. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException(String(reason), 'AbortError');
}

/** Sleeps until a performance.now() instant, never waking early; rejects when either signal aborts. */
function sleepUntil(at: number, signal: AbortSignal | undefined, closing: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = signal?.aborted ? signal : closing.aborted ? closing : undefined;
    if (aborted) return reject(abortError(aborted));
    let timer: NodeJS.Timeout | undefined;
    const cleanUp = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      closing.removeEventListener('abort', onAbort);
    };
    function onAbort(this: AbortSignal) {
      cleanUp();
      reject(abortError(this));
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
