// How many SES calls a worker should keep going so that the pacer, not the worker, is what limits
// the send rate; and a tracker that feeds it moving averages of SES latency and recipients per call.
// Pure: the worker owns the BullMQ `concurrency` setter and applies the suggestion.

/**
 * Little's law gives the mean number of calls in flight; latency varies call to call, and a worker
 * slot also spends time on Redis bookkeeping around each call, so keep half as many again.
 */
const LATENCY_HEADROOM = 1.5;
/**
 * Slots beyond Little's law that wait inside the pacer with a booking. With a few waiting chunks of
 * different sizes the pacer can fill the gaps that large chunks leave; measured with the booking
 * script at rate 100/s and chunks of 1–50 recipients: 3 waiting → 92% of the rate, 12 → 96.6%.
 */
export const PACER_WAITING_SLOTS = 12;

export interface ConcurrencyInputs {
  ratePerSecond: number;
  /** Mean SES call latency. */
  latencyMs: number;
  /** Mean recipients per SES call. */
  recipientsPerCall: number;
  min: number;
  max: number;
}

export function neededConcurrency(inputs: ConcurrencyInputs): number {
  const { min, max } = inputs;
  if (!(min >= 1) || !(max >= min)) throw new RangeError(`need 1 <= min <= max, got ${min}..${max}`);
  const callsPerSecond = inputs.ratePerSecond / Math.max(1, inputs.recipientsPerCall);
  const inFlight = (callsPerSecond * Math.max(0, inputs.latencyMs)) / 1000;
  // Non-finite inputs (no samples yet, a zero rate) fall back to the floor rather than to NaN.
  if (!Number.isFinite(inFlight)) return Math.floor(min);
  const wanted = Math.ceil(inFlight * LATENCY_HEADROOM) + PACER_WAITING_SLOTS;
  return Math.floor(Math.min(max, Math.max(min, wanted)));
}

export interface ConcurrencyTrackerOptions {
  ratePerSecond: number;
  min: number;
  max: number;
  /** Assumed until calls are recorded. */
  initialLatencyMs?: number;
  initialRecipientsPerCall?: number;
  /** Weight of each new sample in the moving averages (0 < w <= 1). */
  sampleWeight?: number;
}

export interface ConcurrencySnapshot {
  latencyMs: number;
  recipientsPerCall: number;
  concurrency: number;
}

export interface ConcurrencyTracker {
  /** One finished SES call: its latency (not counting the pacer wait) and its recipients. */
  record(latencyMs: number, recipients: number): void;
  setRate(ratePerSecond: number): void;
  suggested(): number;
  snapshot(): ConcurrencySnapshot;
}

/** Until calls are measured: a slow-ish SES and single-recipient calls, so it starts generous. */
const DEFAULT_INITIAL_LATENCY_MS = 100;
const DEFAULT_INITIAL_RECIPIENTS_PER_CALL = 1;
/** About the last 20 calls dominate the averages: quick to follow SES, slow to chase one outlier. */
const DEFAULT_SAMPLE_WEIGHT = 0.1;

export function createConcurrencyTracker(options: ConcurrencyTrackerOptions): ConcurrencyTracker {
  const weight = options.sampleWeight ?? DEFAULT_SAMPLE_WEIGHT;
  if (!(weight > 0 && weight <= 1)) throw new RangeError(`sampleWeight must be in (0, 1], got ${weight}`);
  let rate = options.ratePerSecond;
  let latencyMs = options.initialLatencyMs ?? DEFAULT_INITIAL_LATENCY_MS;
  let recipientsPerCall = options.initialRecipientsPerCall ?? DEFAULT_INITIAL_RECIPIENTS_PER_CALL;

  const suggested = () =>
    neededConcurrency({
      ratePerSecond: rate,
      latencyMs,
      recipientsPerCall,
      min: options.min,
      max: options.max,
    });

  return {
    record(sampleMs, recipients) {
      if (!Number.isFinite(sampleMs) || sampleMs < 0 || !(recipients >= 1)) return;
      latencyMs += weight * (sampleMs - latencyMs);
      recipientsPerCall += weight * (recipients - recipientsPerCall);
    },
    setRate(ratePerSecond) {
      rate = ratePerSecond;
    },
    suggested,
    snapshot: () => ({ latencyMs, recipientsPerCall, concurrency: suggested() }),
  };
}
