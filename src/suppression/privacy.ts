// Privacy mode: with a hash key, the store keeps HMAC-SHA256(key, normalised address) instead of the
// address, and scrubs addresses out of free-text details (an SES diagnostic code often quotes the
// recipient), so a Redis dump reveals no address. A keyed hash, not a plain one, because a plain hash
// of an address is reversed by hashing a list of candidate addresses.
import { createHmac } from 'node:crypto';

const HASHED_ADDRESS = /^[0-9a-f]{64}$/;
/**
 * Anything shaped like an address inside free text; deliberately broad. A quoted local part
 * (`"john doe"@example.com`, escapes included) counts as one, or the scrub would miss it.
 */
const ADDRESS_IN_TEXT = /(?:"(?:[^"\\\r\n]|\\.)*"|[^\s<>()[\]"',;:]+)@[^\s<>()[\]"',;:]+/g;
export const REDACTED_ADDRESS = '[address]';

/** True when a listing entry's `address` is an HMAC hex rather than an address (privacy mode). */
export function isHashedAddress(address: string): boolean {
  return HASHED_ADDRESS.test(address);
}

export function redactAddresses(text: string): string {
  return text.replace(ADDRESS_IN_TEXT, REDACTED_ADDRESS);
}

export interface AddressKeyer {
  /** Whether stored identifiers are HMACs (privacy mode). */
  hashes: boolean;
  /** The identifier stored for a normalised address: the address itself, or its HMAC hex. */
  field: (normalized: string) => string;
  /** What free-text details go through before they are stored. */
  redact: (text: string) => string;
}

export function createAddressKeyer(hashKey: Buffer | string | undefined): AddressKeyer {
  if (hashKey === undefined) {
    return { hashes: false, field: (normalized) => normalized, redact: (text) => text };
  }
  if (hashKey.length === 0) throw new TypeError('suppression hashKey must not be empty');
  return {
    hashes: true,
    field: (normalized) => createHmac('sha256', hashKey).update(normalized).digest('hex'),
    redact: redactAddresses,
  };
}
