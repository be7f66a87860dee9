// Global holds on sending, shared by every worker through Redis:
// - a paused account (SendingPaused / AccountSuspended / GetAccount says disabled), an operator's
//   pause or the reputation guard pauses the BullMQ queue itself, with the reason recorded so
//   operators and /readyz can see why; intake keeps accepting and queueing mail meanwhile. Jobs
//   already running check the hold right before each SES call (gate) and go back to the queue;
// - a throttling answer starts a short back-off that every worker waits out before its next call.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  GATE_LUA,
  PAUSE_LUA,
  PROBE_RELEASE_LUA,
  RESUME_LUA,
  THROTTLE_CLEAR_LUA,
  THROTTLE_LUA,
} from './holds-scripts.js';

export interface HoldState {
  reason: string;
  since: number;
  /** 'ses' when SES caused it (the probe may lift it), 'operator' for a manual pause. */
  by: 'ses' | 'operator' | 'reputation';
}

/** What stands between a chunk and its SES call right now. */
export interface SendGate {
  hold: HoldState | undefined;
  /**
   * How long to wait before asking again: what is left of a throttle back-off, or a short poll while
   * another caller probes SES after one; 0 when nothing stands in the way.
   */
  throttleMs: number;
  /** A back-off was started recently and is remembered (the next one doubles it). */
  throttleRemembered: boolean;
  /** This caller holds the probe: the one SES call allowed after a back-off until its answer. */
  probing: boolean;
}

export interface GateOptions {
  /** Claims the probe when one is due; without it the gate is only read. */
  probeToken?: string;
  /** How long the probe is held if its holder never says how the call ended (a crashed worker). */
  probeLeaseMs?: number;
}

export interface ThrottleOptions {
  baseMs: number;
  maxMs: number;
  /** Multiplies this back-off's length (spreads restarts after separate storms); 1 for none. */
  jitter: number;
}

export interface ThrottleStart {
  /** False when a back-off was already in force: the answer belongs to it and changes nothing. */
  started: boolean;
  /** The back-off's length before jitter. */
  backoffMs: number;
  /** What is left of it. */
  remainingMs: number;
}

export interface SendingHolds {
  /** Starts a hold; true when this call started it (an operator takes over an automatic one). */
  pause(state: Omit<HoldState, 'since'>): Promise<boolean>;
  /** Lifts the hold (only one of `onlyBy` when given); true when one was lifted. */
  resume(options?: { onlyBy?: HoldState['by'] }): Promise<boolean>;
  /**
   * Brings the BullMQ queue in line with the hold: pauses it under a hold, resumes it without one
   * (every pause in this project records a hold, an operator's included). Returns the hold in force
   * and what was changed, if anything.
   */
  reconcile(): Promise<{ hold: HoldState | undefined; changed: 'paused' | 'resumed' | undefined }>;
  current(): Promise<HoldState | undefined>;
  gate(options?: GateOptions): Promise<SendGate>;
  /** The probe's call ended otherwise than throttled or sent: the next caller may probe now. */
  releaseProbe(token: string): Promise<void>;
  /** A throttling answer: starts (or doubles) the shared back-off unless one is in force. */
  throttle(options: ThrottleOptions): Promise<ThrottleStart>;
  /** A call succeeded after a back-off: the next throttle starts from the base length again. */
  throttleCleared(): Promise<void>;
  throttleRemainingMs(): Promise<number>;
}

/** How long a back-off's length is remembered after it ends, so that a throttle then doubles it. */
const THROTTLE_MEMORY_MS = 30_000;
/** The probe's lease when the caller names none: the default SES request timeout and some. */
const DEFAULT_PROBE_LEASE_MS = 35_000;
/** How often callers waiting for a probe's answer ask again. */
export const PROBE_POLL_MS = 100;

type HoldsRedis = Redis & {
  sesRelayHoldPause?(key: string, since: string, reason: string, by: string): Promise<number>;
  sesRelayHoldResume?(key: string, onlyBy: string): Promise<number>;
  sesRelayHoldGate?(
    hold: string,
    throttle: string,
    probeToken: string,
    leaseMs: string,
    pollMs: string,
    memoryMs: string,
  ): Promise<[string, string, string, number, number, number]>;
  sesRelayProbeRelease?(key: string, token: string): Promise<number>;
  sesRelayThrottle?(key: string, ...args: string[]): Promise<[number, number, number]>;
  sesRelayThrottleClear?(key: string): Promise<number>;
};

function defineScripts(redis: HoldsRedis): Required<HoldsRedis> {
  // EVALSHA after the first call; defined once per connection, whoever creates holds on it.
  if (!redis.sesRelayHoldGate) {
    redis.defineCommand('sesRelayHoldPause', { numberOfKeys: 1, lua: PAUSE_LUA });
    redis.defineCommand('sesRelayHoldResume', { numberOfKeys: 1, lua: RESUME_LUA });
    redis.defineCommand('sesRelayHoldGate', { numberOfKeys: 2, lua: GATE_LUA });
    redis.defineCommand('sesRelayThrottle', { numberOfKeys: 1, lua: THROTTLE_LUA });
    redis.defineCommand('sesRelayThrottleClear', { numberOfKeys: 1, lua: THROTTLE_CLEAR_LUA });
    redis.defineCommand('sesRelayProbeRelease', { numberOfKeys: 1, lua: PROBE_RELEASE_LUA });
  }
  return redis as Required<HoldsRedis>;
}

function holdOf(since: string | undefined, by: string | undefined, reason: string | undefined) {
  if (!since) return undefined;
  return { reason: reason ?? '', since: Number(since), by: (by || 'ses') as HoldState['by'] };
}

export function createSendingHolds(options: {
  redis: Redis;
  queue: Queue;
  holdKey: string;
  throttleKey: string;
}): SendingHolds {
  const { queue, holdKey, throttleKey } = options;
  const redis = defineScripts(options.redis);

  const gate = async (gateOptions: GateOptions = {}): Promise<SendGate> => {
    const [since, by, reason, throttleMs, backoff, probing] = await redis.sesRelayHoldGate(
      holdKey,
      throttleKey,
      gateOptions.probeToken ?? '',
      String(Math.round(gateOptions.probeLeaseMs ?? DEFAULT_PROBE_LEASE_MS)),
      String(PROBE_POLL_MS),
      String(THROTTLE_MEMORY_MS),
    );
    return {
      hold: holdOf(since, by, reason),
      throttleMs,
      throttleRemembered: backoff > 0,
      probing: probing === 1,
    };
  };
  const current = async () => (await gate()).hold;
  /**
   * Pauses or resumes the queue, then reads the hold again: a pause or resume that ran entirely in
   * between (another process) would otherwise leave the queue paused with no hold to show or lift,
   * or running under one. The queue ends as the hold now says; returns that hold.
   */
  const setQueue = async (paused: boolean): Promise<HoldState | undefined> => {
    await (paused ? queue.pause() : queue.resume());
    const hold = await current();
    if (paused && !hold) await queue.resume();
    if (!paused && hold) await queue.pause();
    return hold;
  };

  return {
    async pause(state) {
      // One step: the first reason wins until someone resumes, except that an operator's pause takes
      // an automatic hold over, so the SES probe does not lift what a person decided.
      const fresh = await redis.sesRelayHoldPause(holdKey, String(Date.now()), state.reason, state.by);
      await setQueue(true);
      return fresh === 1;
    },
    async resume(resumeOptions = {}) {
      const lifted = (await redis.sesRelayHoldResume(holdKey, resumeOptions.onlyBy ?? '')) === 1;
      if (!lifted && resumeOptions.onlyBy) return false;
      await setQueue(false);
      return lifted;
    },
    async reconcile() {
      const [hold, paused] = await Promise.all([current(), queue.isPaused()]);
      if (Boolean(hold) === paused) return { hold, changed: undefined };
      const now = await setQueue(Boolean(hold));
      // Unchanged when a pause or resume elsewhere already brought hold and queue back in line.
      const changed = Boolean(now) === Boolean(hold) ? (now ? 'paused' : 'resumed') : undefined;
      return { hold: now, changed };
    },
    current,
    gate,
    async throttle(throttleOptions) {
      const [started, backoffMs, remainingMs] = await redis.sesRelayThrottle(
        throttleKey,
        String(Math.round(throttleOptions.baseMs)),
        String(Math.round(throttleOptions.maxMs)),
        String(throttleOptions.jitter),
        String(THROTTLE_MEMORY_MS),
      );
      return { started: started === 1, backoffMs, remainingMs };
    },
    async releaseProbe(token) {
      await redis.sesRelayProbeRelease(throttleKey, token);
    },
    async throttleCleared() {
      await redis.sesRelayThrottleClear(throttleKey);
    },
    async throttleRemainingMs() {
      return (await gate()).throttleMs;
    },
  };
}
