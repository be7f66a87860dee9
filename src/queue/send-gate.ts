// What a chunk passes on its way to SES once its quota is reserved: the SMTP user's pacer and the
// global one, then — right before the call, in one Redis round trip — the sending hold and the
// shared throttle back-off. A hold found there ends the job's run (SendingHeld: the job goes back to
// the queue with no attempt used) and wakes every job of this process waiting in the pacer, so a
// pause stops sending at once rather than after the bookings already made. A back-off is waited out
// and the chunk paced again. When it ends, one chunk probes SES while the others wait for its answer,
// so a storm that goes on costs one throttled call per period, not a second's worth of them.
// Bookings that end up unused are given back.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PacerBooking } from '../pacing/index.js';
import type { Logger } from '../shared/logger.js';
import type { HoldState, SendingHolds, ThrottleStart } from './holds.js';
import type { SendJobData } from './job.js';
import { userPolicyOf, type UserPolicies } from './user-policy.js';

/** First throttle back-off; doubles when throttling goes on after a back-off ends, up to the cap. */
export const THROTTLE_BACKOFF_MS = 1000;
export const THROTTLE_BACKOFF_MAX_MS = 30_000;

/** Ends a job's run when sending is on hold; the deliverer puts the job back. */
export class SendingHeld extends Error {
  constructor(readonly hold: HoldState) {
    super(`sending is held by ${hold.by}: ${hold.reason}`);
    this.name = 'SendingHeld';
  }
}

export interface PacerLike {
  acquire(recipients: number, signal?: AbortSignal): Promise<PacerBooking>;
}

export interface SendGateDeps {
  holds: SendingHolds;
  logger: Logger;
  pacer: PacerLike | undefined;
  /** The SMTP user's share of the rate (users file), paced before the global rate. */
  userPacer?: ((user: string, ratePerSecond: number) => PacerLike) | undefined;
  /** The users' policy as the users file has it now; without it (or for a user it lacks), the job's copy. */
  userPolicy?: UserPolicies | undefined;
  /** Aborted when the worker stops: every wait here ends at once. */
  stopping?: AbortSignal | undefined;
  /** How long a probe is held when its holder never reports (the SES request timeout and some). */
  probeLeaseMs?: number | undefined;
}

/** The chunk may go to SES now; say `sent` after SES accepted it. */
export interface Cleared {
  /** A throttle back-off is remembered: a call that succeeds now clears it. */
  throttleRemembered: boolean;
  /** Set when this call is the probe after a back-off; its outcome lets the others go or not. */
  probeToken?: string;
}

export interface SendGate {
  /** Before reserving the quota: throws SendingHeld when held, waits out a throttle back-off. */
  beforeReserve(): Promise<void>;
  /** Paced, not held, no back-off: resolves right before the SES call. Throws SendingHeld. */
  clearToSend(data: SendJobData, recipients: number): Promise<Cleared>;
  /** SES accepted the call. */
  sent(cleared: Cleared): void;
  /** SES throttled the call: starts or doubles the shared back-off (once per period). */
  throttled(): Promise<ThrottleStart>;
  /** The call ended otherwise (another error): a probe it held passes to the next caller. */
  failed(cleared: Cleared): void;
  /** A hold began elsewhere in this process (SES paused): wake the jobs waiting here. */
  wake(hold: HoldState): void;
}

export function createSendGate(deps: SendGateDeps): SendGate {
  const { holds, stopping } = deps;
  // Probe tokens: unique across processes, cheap per call.
  const tokenPrefix = randomUUID();
  let tokens = 0;
  /**
   * One signal ends every wait of this process: aborted with SendingHeld when a hold is found (then
   * replaced for the waits after it), or with the stop's reason when the worker stops.
   */
  const newWake = () => {
    const controller = new AbortController();
    // Every waiting job listens; hundreds at once is normal, not a leak.
    setMaxListeners(0, controller.signal);
    if (stopping?.aborted) controller.abort(stopping.reason);
    return controller;
  };
  let heldWake = newWake();
  stopping?.addEventListener('abort', () => heldWake.abort(stopping.reason), { once: true });
  const waitSignal = (): AbortSignal => heldWake.signal;

  function wake(hold: HoldState): void {
    const previous = heldWake;
    heldWake = newWake();
    previous.abort(new SendingHeld(hold));
  }

  function held(hold: HoldState): never {
    wake(hold);
    throw new SendingHeld(hold);
  }

  /** Sleeps; an abort rejects with the signal's reason (SendingHeld, the stop), not a bare AbortError. */
  async function waitOut(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(ms, undefined, { signal });
    } catch (err) {
      throw signal.aborted && signal.reason instanceof Error ? signal.reason : err;
    }
  }

  async function giveBack(bookings: PacerBooking[]): Promise<void> {
    await Promise.all(bookings.map((booking) => booking.giveBack()));
  }

  async function pace(data: SendJobData, recipients: number, signal: AbortSignal): Promise<PacerBooking[]> {
    const bookings: PacerBooking[] = [];
    try {
      if (data.user && deps.userPacer) {
        const { rateShare } = await userPolicyOf(data, deps.userPolicy);
        if (rateShare !== undefined)
          bookings.push(await deps.userPacer(data.user, rateShare).acquire(recipients, signal));
      }
      if (deps.pacer) bookings.push(await deps.pacer.acquire(recipients, signal));
      return bookings;
    } catch (err) {
      await giveBack(bookings);
      throw err;
    }
  }

  return {
    async beforeReserve() {
      for (;;) {
        // Only looks: the probe is claimed right before the call, not before the quota is reserved.
        const gate = await holds.gate();
        if (gate.hold) held(gate.hold);
        if (gate.throttleMs <= 0) return;
        await waitOut(gate.throttleMs, waitSignal());
      }
    },
    async clearToSend(data, recipients) {
      for (;;) {
        const signal = waitSignal();
        const bookings = await pace(data, recipients, signal);
        const probeToken = `${tokenPrefix}:${++tokens}`;
        const gate = await holds
          .gate({ probeToken, probeLeaseMs: deps.probeLeaseMs })
          .catch(async (err: unknown) => {
            await giveBack(bookings);
            throw err;
          });
        if (!gate.hold && gate.throttleMs <= 0) {
          if (bookings.some((booking) => booking.late)) {
            deps.logger.warn(
              { queueId: data.queueId, rcpt: recipients },
              'pacing.late_send: sent after its slot (event loop stalled); the rate bound is not assured for it',
            );
          }
          return gate.probing
            ? { throttleRemembered: gate.throttleRemembered, probeToken }
            : { throttleRemembered: gate.throttleRemembered };
        }
        await giveBack(bookings);
        if (gate.hold) held(gate.hold);
        await waitOut(gate.throttleMs, signal);
      }
    },
    sent(cleared) {
      if (cleared.throttleRemembered) {
        holds.throttleCleared().catch((err: Error) => {
          deps.logger.warn({ err: err.message }, 'ses.throttle_clear_failed');
        });
      }
    },
    failed(cleared) {
      if (cleared.probeToken === undefined) return;
      holds.releaseProbe(cleared.probeToken).catch((err: Error) => {
        // The lease ends it anyway.
        deps.logger.warn({ err: err.message }, 'ses.throttle_probe_release_failed');
      });
    },
    throttled: () =>
      holds.throttle({
        baseMs: THROTTLE_BACKOFF_MS,
        maxMs: THROTTLE_BACKOFF_MAX_MS,
        // Separate storms need not all end on the same millisecond.
        jitter: 0.75 + Math.random() * 0.5,
      }),
    wake,
  };
}
