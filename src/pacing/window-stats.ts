// Sliding-window accounting of sends: the most recipients in any window of a given length, and how
// many windows went over a limit. Used to verify the pacer (tests, benchmark) and fit for a metric.

export interface CountedEvent {
  /** Milliseconds on any clock. */
  at: number;
  count: number;
}

export interface WindowStats {
  total: number;
  /** The most counted in any one window. */
  maxInWindow: number;
  /** Distinct windows (one per event time that ends them) whose total is above the limit. */
  windowsOverLimit: number;
}

/**
 * Windows are half-open, (t - windowMs, t], one ending at each distinct event time: the fullest
 * window of any placement ends at some event, so these are all the windows that matter.
 */
export function slidingWindowStats(
  events: readonly CountedEvent[],
  windowMs: number,
  limit: number,
): WindowStats {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  let total = 0;
  let maxInWindow = 0;
  let windowsOverLimit = 0;
  let sum = 0;
  let lo = 0;
  for (let i = 0; i < sorted.length; i++) {
    const event = sorted[i]!;
    total += event.count;
    sum += event.count;
    while (sorted[lo]!.at <= event.at - windowMs) sum -= sorted[lo++]!.count;
    // Several events at one instant: judge the window once, after the last of them.
    if (sorted[i + 1]?.at === event.at) continue;
    maxInWindow = Math.max(maxInWindow, sum);
    if (sum > limit) windowsOverLimit++;
  }
  return { total, maxInWindow, windowsOverLimit };
}
