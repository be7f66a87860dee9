// Send-rate pacing: a global recipients-per-second pacer shared through Redis, and the concurrency a
// worker needs for that rate to be reachable.
export {
  createPacer,
  DEFAULT_PACER_MARGIN_MS,
  MAX_BOOKING_AHEAD_MS,
  PACER_SLOT_MS,
  slotCapFor,
} from './pacer.js';
export type { Pacer, PacerBooking, PacerOptions, PacerStats } from './pacer.js';
export { createConcurrencyTracker, neededConcurrency, PACER_WAITING_SLOTS } from './concurrency.js';
export type {
  ConcurrencyInputs,
  ConcurrencySnapshot,
  ConcurrencyTracker,
  ConcurrencyTrackerOptions,
} from './concurrency.js';
export { slidingWindowStats } from './window-stats.js';
export type { CountedEvent, WindowStats } from './window-stats.js';
