// Dates as operators write them in suppression lists and options: ISO 8601, or epoch milliseconds.
// Pure. Strict where JavaScript is lenient: Date.parse accepts days the calendar lacks, and an epoch
// number in the wrong unit parses fine and lands decades away.

/**
 * Epoch ms from an ISO 8601 date (or date and time); undefined when it is not one or names a day the
 * calendar lacks: Date.parse reads 2026-02-30 as 2 March, which is never what was meant.
 */
export function parseIsoDate(value: string): number | undefined {
  const text = value.trim();
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!day) return undefined;
  const [year, month, date] = day.slice(1).map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, date));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== date) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Epoch ms from an ISO 8601 date or a string of digits (epoch ms); undefined when neither. */
export function parseTimestamp(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (/^\d{1,16}$/.test(text)) return Number(text);
  const ms = parseIsoDate(text);
  return ms === undefined || ms < 0 ? undefined : ms;
}

/**
 * Epoch milliseconds of real suppressions lie between these (1973 and the year 5138). A number below
 * is in seconds (now is about 1.8e9 s), one above in microseconds (about 1.8e15 µs): read as
 * milliseconds, either lands decades away from the date it meant.
 */
const MIN_PLAUSIBLE_EPOCH_MS = 1e11;
const MAX_PLAUSIBLE_EPOCH_MS = 1e14;

/** `seconds` or `microseconds` when an epoch number (not an ISO date) looks like one. */
export function misreadEpochUnit(raw: string | number, ms: number): string | undefined {
  if (typeof raw === 'string' && !/^\s*\d+\s*$/.test(raw)) return undefined;
  if (ms < MIN_PLAUSIBLE_EPOCH_MS) return 'seconds';
  return ms > MAX_PLAUSIBLE_EPOCH_MS ? 'microseconds' : undefined;
}
