// Input validation for the admin API: zod schemas for queries and bodies, and one helper that turns
// the first problem into a 400 naming the field, so a caller knows what to fix.
import { z } from 'zod';
import { MAX_STATS_DAYS, DEFAULT_STATS_DAYS } from '../ops/stats.js';
import { SUPPRESSION_FORMATS, SUPPRESSION_REASONS } from '../ops/suppression-io.js';
import { misreadEpochUnit, parseTimestamp } from '../ops/timestamps.js';
import { normalizeAddress } from '../suppression/normalize.js';
import { isHashedAddress } from '../suppression/privacy.js';
import { AdminError } from './errors.js';

/** The store lists at most 1000 entries per call. */
export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;
/** RFC 5321's path limit with room for a display name; anything longer is not an address. */
const MAX_ADDRESS_INPUT_CHARS = 512;
/** A Message-ID is at most a line (998 chars, RFC 5322); queue and SES ids are far shorter. */
const MAX_MESSAGE_ID_CHARS = 998;
const MAX_HOLD_REASON_CHARS = 500;
/** Failed jobs one retry call may move; bounds the work of one request. */
const MAX_RETRY_LIMIT = 1_000_000;

type Where = 'query' | 'body' | 'params';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: Where): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field =
    issue.path.length > 0
      ? issue.path.join('.')
      : issue.code === 'unrecognized_keys'
        ? issue.keys.join(',')
        : where;
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  throw new AdminError('ADMIN_BAD_REQUEST', `${field}: ${message}`, { field });
}

/**
 * Read as the suppression import reads dates: an epoch number that looks like seconds or
 * microseconds is refused, not stored decades away (past JavaScript's last date, an expiry would
 * break every later export and lookup of the entry).
 */
const timestamp = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseTimestamp(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date or epoch milliseconds' });
    return z.NEVER;
  }
  const unit = misreadEpochUnit(value, ms);
  if (unit) {
    ctx.addIssue({
      code: 'custom',
      message: `looks like epoch ${unit}; give epoch milliseconds or an ISO 8601 date`,
    });
    return z.NEVER;
  }
  return ms;
});

const integerText = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** An email address, normalised the way the store keys it. */
export const address = z
  .string()
  .max(MAX_ADDRESS_INPUT_CHARS)
  .transform((value, ctx) => {
    const normalized = normalizeAddress(value);
    if (normalized === undefined) {
      ctx.addIssue({ code: 'custom', message: 'not an email address' });
      return z.NEVER;
    }
    return normalized;
  });

const reason = z.enum(SUPPRESSION_REASONS);
const format = z.enum(SUPPRESSION_FORMATS);

export const listQuery = z.object({
  cursor: z.string().max(1024).optional(),
  limit: integerText(1, MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  reason: reason.optional(),
  since: timestamp.optional(),
});

/**
 * The entry a path names: an address, or in privacy mode also the HMAC id (64 hex digits) that the
 * listing and export show in place of the address, passed through for the store to locate.
 */
const entryKey = (hashesAddresses: boolean) =>
  z
    .string()
    .max(MAX_ADDRESS_INPUT_CHARS)
    .transform((value, ctx) => {
      const id = value.trim().toLowerCase();
      if (hashesAddresses && isHashedAddress(id)) return id;
      const normalized = normalizeAddress(value);
      if (normalized === undefined) {
        const message = hashesAddresses ? 'not an email address or an entry id' : 'not an email address';
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return normalized;
    });

const ENTRY_PARAMS = {
  plain: z.object({ address: entryKey(false) }),
  hashed: z.object({ address: entryKey(true) }),
};

export function entryParams(hashesAddresses: boolean) {
  return hashesAddresses ? ENTRY_PARAMS.hashed : ENTRY_PARAMS.plain;
}

/** An expiry already past would be stored and then ignored: the answer would say suppressed, falsely. */
const futureTimestamp = timestamp.refine((ms) => ms > Date.now(), 'must be in the future');

export const addBody = z.strictObject({
  address,
  reason: reason.default('manual'),
  expiresAt: futureTimestamp.optional(),
});

export const formatQuery = z.object({ format: format.optional() });

export const messageParams = z.object({ id: z.string().trim().min(1).max(MAX_MESSAGE_ID_CHARS) });

export const statsQuery = z.object({
  days: integerText(1, MAX_STATS_DAYS).default(DEFAULT_STATS_DAYS),
});

export const pauseBody = z.strictObject({
  reason: z.string().trim().min(1).max(MAX_HOLD_REASON_CHARS).optional(),
});

export const retryBody = z.strictObject({ limit: z.number().int().min(1).max(MAX_RETRY_LIMIT).optional() });

export const emptyBody = z.strictObject({});
