// How many SES calls a worker should keep going so that the pacer, not the worker, is what limits
// the send rate; and a tracker that feeds it moving averages of SES latency and recipients per call.
// Pure: the worker owns the BullMQ `concurrency` setter and applies the suggestion.

/**
 * Little's law gives the mean number of calls in flight; latency varies call to call, and a worker
 * slot also spends time on Redis bookkeeping around each call, so keep half as many again.
 */
const LATENCY_HEADROOM = 1.5;
/**
 * Slots beyond Little's law that wait inside the pacer with a booking. With several waiting chunks of
 * different sizes the pacer can fill the gaps that large chunks leave. Measured with the booking
 * script, as a share of the window's cap: rate 20/s, chunks of 1–10: 3 waiting → 90%, 8 → 96%,
 * 16 → 98.4%; rate 100/s, chunks of 1–50: 3 → 94%, 12 → 98%, 17 → 98.3%.
 */
export const PACER_WAITING_SLOTS = 16;

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
}

export interface ConcurrencySnapshot {
  latencyMs: number;
  recipientsPerCall: number;
  concurrency: number;
}

export interface ConcurrencyTracker {
  /**
   * One finished SES call: its latency (not counting the pacer wait), its recipients, and when it
   * ended (performance.now() by default; explicit in tests).
   */
  record(latencyMs: number, recipients: number, atMs?: number): void;
  setRate(ratePerSecond: number): void;
  suggested(): number;
  snapshot(): ConcurrencySnapshot;
}

/** Until calls are measured: a slow-ish SES and single-recipient calls, so it starts generous. */
const DEFAULT_INITIAL_LATENCY_MS = 100;
const DEFAULT_INITIAL_RECIPIENTS_PER_CALL = 1;
/**
 * Calls are first averaged per period, then periods are blended with a time constant, so the
 * averages move at the same pace at 5 calls/s and at 500: a per-call weight would chase every burst
 * of slow calls at high rates (and more concurrency, by loading the process, makes calls slower).
 */
const AVERAGING_PERIOD_MS = 250;
const TIME_CONSTANT_MS = 2000;

export function createConcurrencyTracker(options: ConcurrencyTrackerOptions): ConcurrencyTracker {
  let rate = options.ratePerSecond;
  let latencyMs = options.initialLatencyMs ?? DEFAULT_INITIAL_LATENCY_MS;
  let recipientsPerCall = options.initialRecipientsPerCall ?? DEFAULT_INITIAL_RECIPIENTS_PER_CALL;
  // The open period: sums of its calls, and when the last period was folded in.
  let periodStart: number | undefined;
  let foldedAt: number | undefined;
  let calls = 0;
  let latencySum = 0;
  let recipientSum = 0;

  const fold = (now: number) => {
    if (calls > 0) {
      const elapsed = foldedAt === undefined ? AVERAGING_PERIOD_MS : now - foldedAt;
      const weight = 1 - Math.exp(-elapsed / TIME_CONSTANT_MS);
      latencyMs += weight * (latencySum / calls - latencyMs);
      recipientsPerCall += weight * (recipientSum / calls - recipientsPerCall);
    }
    foldedAt = now;
    periodStart = now;
    calls = 0;
    latencySum = 0;
    recipientSum = 0;
  };

  const suggested = () =>
    neededConcurrency({
      ratePerSecond: rate,
      latencyMs,
      recipientsPerCall,
      min: options.min,
      max: options.max,
    });

  return {
    record(sampleMs, recipients, atMs = performance.now()) {
      if (!Number.isFinite(sampleMs) || sampleMs < 0 || !(recipients >= 1)) return;
      periodStart ??= atMs;
      if (atMs - periodStart >= AVERAGING_PERIOD_MS) fold(atMs);
      calls++;
      latencySum += sampleMs;
      recipientSum += recipients;
    },
    setRate(ratePerSecond) {
      rate = ratePerSecond;
    },
    suggested,
    snapshot: () => ({ latencyMs, recipientsPerCall, concurrency: suggested() }),
  };
}
