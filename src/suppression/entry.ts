// Turns caller input into what the store keeps: an address into its field and bucket, an event into
// the arguments of the upsert script. Shared by single writes and bulk imports.
import { encodeDetailJson, reasonCode, toBase36 } from './codec.js';
import { bucketOf } from './keys.js';
import { normalizeAddress } from './normalize.js';
import { isHashedAddress, type AddressKeyer } from './privacy.js';
import type { SuppressionDetails } from './types.js';

export interface Located {
  /** The stored identifier: normalised address, or its HMAC hex in privacy mode. */
  field: string;
  bucket: number;
}

export type Locator = (address: string) => Located | undefined;

/**
 * In privacy mode an entry may also be named by its stored HMAC (as listings and exports show it),
 * so an export imports back and a listed entry can be looked up.
 */
export function createLocator(keyer: AddressKeyer): Locator {
  return (address) => {
    const hashed = address.trim().toLowerCase();
    if (keyer.hashes && isHashedAddress(hashed)) return { field: hashed, bucket: bucketOf(hashed) };
    const normalized = normalizeAddress(address);
    if (normalized === undefined) return undefined;
    const field = keyer.field(normalized);
    return { field, bucket: bucketOf(field) };
  };
}

export function requireEpochMs(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${what} must be epoch milliseconds`);
  return value;
}

/** An entry whose expiry is already past would suppress nobody: it is refused rather than stored. */
export function expiredOnArrival(details: SuppressionDetails, now: number): boolean {
  return details.expiresAt !== undefined && details.expiresAt <= now;
}

export function requirePositiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer`);
  return value;
}

/** An event in the string forms the Lua scripts take (scripts.ts); '' stands for "none". */
export interface EncodedEvent {
  at: string;
  at36: string;
  reason: string;
  expiresAt: string;
  expiresAt36: string;
  json: string;
}

/** Validates and encodes an event; throws a TypeError for an invalid one. */
export function encodeEvent(details: SuppressionDetails, now: number, keyer: AddressKeyer): EncodedEvent {
  const at = requireEpochMs(details.at ?? now, 'suppression time');
  const expiresAt =
    details.expiresAt === undefined ? undefined : requireEpochMs(details.expiresAt, 'expiresAt');
  return {
    at: String(at),
    at36: toBase36(at),
    reason: reasonCode(details.reason),
    expiresAt: expiresAt === undefined ? '' : String(expiresAt),
    expiresAt36: expiresAt === undefined ? '' : toBase36(expiresAt),
    json: encodeDetailJson(details, keyer.redact),
  };
}

/** The 7 per-record ARGV of the SUPPRESS script. */
export function suppressArgs(
  field: string,
  details: SuppressionDetails,
  now: number,
  keyer: AddressKeyer,
): string[] {
  const event = encodeEvent(details, now, keyer);
  return [field, event.at, event.at36, event.reason, event.expiresAt, event.expiresAt36, event.json];
}
