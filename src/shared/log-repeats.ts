// Keeps one failure that repeats many times a second (a reconnect loop, a worker whose every call
// fails) from flooding the log: the first occurrence is logged, repeats within an interval are
// counted, and the next line after the interval says how many were held back. Pure apart from the clock.

/** How many distinct failures are remembered; beyond that the oldest are forgotten. */
const MAX_TRACKED_SHAPES = 100;

/**
 * A message with its numbers taken out: "retrying after 10ms" and "retrying after 440ms" are the
 * same failure, and so are two connection errors that differ only in a port or a count.
 */
export function errorShape(message: string): string {
  return message.replace(/\d+/g, '#');
}

export type RepeatVerdict = { log: false } | { log: true; repeated: number };

export interface RepeatFilter {
  /** Whether `message` is to be logged now, and how many of its kind were held back before it. */
  admit(message: string, now?: number): RepeatVerdict;
}

export function createRepeatFilter(intervalMs: number): RepeatFilter {
  const seen = new Map<string, { loggedAt: number; heldBack: number }>();
  return {
    admit(message, now = Date.now()) {
      const shape = errorShape(message);
      const entry = seen.get(shape);
      if (entry && now - entry.loggedAt < intervalMs) {
        entry.heldBack++;
        return { log: false };
      }
      const repeated = entry?.heldBack ?? 0;
      seen.delete(shape);
      if (seen.size >= MAX_TRACKED_SHAPES) seen.delete(seen.keys().next().value ?? '');
      seen.set(shape, { loggedAt: now, heldBack: 0 });
      return { log: true, repeated };
    },
  };
}
