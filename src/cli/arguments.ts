// Option parsers for commander: a bad value becomes an InvalidArgumentError, which commander reports
// as a usage error (exit 2) naming the option. Pure.
import { InvalidArgumentError } from 'commander';
import { parseDurationMs } from '../config/parsers.js';
import { parseIsoDate } from '../ops/timestamps.js';

export const DAY_MS = 86_400_000;

export function positiveInt(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('expected a positive whole number.');
  }
  return number;
}

export function positiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError('expected a positive number.');
  }
  return number;
}

/** A number without a unit, which the configuration's durations read as milliseconds. */
const BARE_NUMBER = /^\s*[\d.]+\s*$/;

/**
 * A duration with its unit (500ms, 30s, 15m, 2h, 3d); undefined for anything else. A bare number is
 * refused: `--expires 30` or `--timeout 120` read as milliseconds would lift the suppression or give
 * up at once, without a word.
 */
function durationWithUnit(value: string): number | undefined {
  return BARE_NUMBER.test(value) ? undefined : parseDurationMs(value);
}

export function duration(value: string): number {
  const ms = durationWithUnit(value);
  if (ms === undefined || ms <= 0) {
    const bare = BARE_NUMBER.test(value)
      ? `; give the unit (${value.trim()} alone would be milliseconds)`
      : '';
    throw new InvalidArgumentError(`expected a duration such as 30s, 15m, 2h or 3d${bare}.`);
  }
  return ms;
}

/**
 * A duration with an upper bound, for durations added to the current time: unbounded, one such as
 * 999999999d lands past the last date a JavaScript Date (and the store) can hold. `hint` follows the
 * limit in the message and says what to do instead.
 */
export function durationAtMost(maxMs: number, hint: string): (value: string) => number {
  return (value) => {
    const ms = duration(value);
    if (ms > maxMs) {
      throw new InvalidArgumentError(`expected at most ${Math.floor(maxMs / DAY_MS)}d; ${hint}.`);
    }
    return ms;
  };
}

/**
 * A point in time, absolute (`2026-01-31`, any ISO 8601 date or time) or relative to now (`7d` means
 * seven days ago): operators more often ask "what was suppressed this week" than for a date.
 */
export function pointInTime(now: () => number = Date.now): (value: string) => number {
  return (value) => {
    const ago = durationWithUnit(value);
    if (ago !== undefined) return now() - ago;
    // Strict about the calendar: Date.parse alone reads 2026-02-30 as 2 March.
    const at = parseIsoDate(value);
    if (at === undefined) {
      throw new InvalidArgumentError('expected an ISO date such as 2026-01-31 or a duration ago such as 7d.');
    }
    return at;
  };
}
