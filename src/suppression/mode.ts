// Which way a stored list names addresses: plain, or HMACs under one key (privacy mode). A store
// opened with another SUPPRESSION_HASH_KEY setting than its list was written with would match no
// recipient at all, so setting, removing or changing the key on a list with entries would silently
// lift every suppression and send to every hard-bounced address again. The list therefore carries a
// marker of its mode, and a store whose mode differs refuses to work until the setting is put back.
//
// The marker is set by the first write to an empty list. A list written before markers existed is
// recognised by its entries (plain addresses or HMAC hex) and marked then; whether its HMACs were
// made with this same key cannot be told, so a changed key goes unnoticed on such a list only.
import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { runScript } from '../shared/lua.js';
import type { SuppressionKeys } from './keys.js';
import { listEntries } from './list.js';
import { isHashedAddress } from './privacy.js';
import { CLAIM_MODE } from './scripts.js';

const PLAIN = 'plain';
/** The mode of a list that holds HMACs under a key nobody recorded (written before markers). */
const HASHED_UNKNOWN_KEY = 'hmac:';
/** How often a store that found no marker (nothing written yet) looks again before a read. */
const UNMARKED_RECHECK_MS = 10_000;

/** The marker value for a hash key: a fingerprint of the key (an HMAC: it reveals nothing of it). */
export function addressingMode(hashKey: Buffer | string | undefined): string {
  if (hashKey === undefined) return PLAIN;
  const fingerprint = createHmac('sha256', hashKey).update('ses-relay suppression list').digest('hex');
  return `${HASHED_UNKNOWN_KEY}${fingerprint.slice(0, 16)}`;
}

/**
 * The list was written under another SUPPRESSION_HASH_KEY setting. Its message names the list's keys
 * and the setting, and holds no address or secret: the admin API shows it to the operator as it is.
 */
export class SuppressionModeError extends Error {
  override readonly name = 'SuppressionModeError';
}

function mismatch(keys: SuppressionKeys, stored: string, ours: string): Error {
  const what =
    stored === PLAIN
      ? 'holds plain addresses, but SUPPRESSION_HASH_KEY is set'
      : ours === PLAIN
        ? 'holds HMACs of addresses (privacy mode), but SUPPRESSION_HASH_KEY is not set'
        : 'was written with another SUPPRESSION_HASH_KEY';
  return new SuppressionModeError(
    `the suppression list (${keys.pattern}) ${what}: no recipient would match its entries. Set ` +
      'SUPPRESSION_HASH_KEY as the list was written; to change it, export the list, delete those keys ' +
      'and import the export (an export of HMACs imports back only under the key that made them)',
  );
}

export interface ModeGuard {
  /**
   * Undefined, or a promise, when the list's mode is this store's or not known yet (a write marks a
   * list that has none); throws, for this and every later call, when it is another one. Once the
   * mode is confirmed this returns at once, so the SMTP check pays nothing for it.
   */
  check(write: boolean): Promise<void> | undefined;
}

export function createModeGuard(
  redis: Redis,
  keys: SuppressionKeys,
  hashKey: Buffer | string | undefined,
  now: () => number,
): ModeGuard {
  const mode = addressingMode(hashKey);
  let confirmed = false;
  let refused: Error | undefined;
  let lookedAt = -Infinity;

  async function claim(claimed: string, checkedEntries: boolean): Promise<[string, number]> {
    const args = [claimed, checkedEntries ? '1' : '0'];
    return (await runScript(redis, CLAIM_MODE, [keys.mode, keys.entries], args)) as [string, number];
  }

  /** The mode shown by the first stored entry, for a list written before markers; undefined if empty. */
  async function modeOfEntries(): Promise<string | undefined> {
    let cursor: string | undefined;
    do {
      // At time 0 every entry counts as live: expired ones show the mode as well.
      const page = await listEntries(
        { redis, keys, now: () => 0 },
        { limit: 1, ...(cursor ? { cursor } : {}) },
      );
      const field = page.items[0]?.address;
      if (field !== undefined) return isHashedAddress(field) ? HASHED_UNKNOWN_KEY : PLAIN;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return undefined;
  }

  async function verify(write: boolean): Promise<void> {
    const [marker, entries] = await claim(write ? mode : '', false);
    if (marker === mode) {
      confirmed = true;
      return;
    }
    // Nothing stored: nothing to mismatch yet (the first write marks the list).
    if (entries <= 0) return;
    if (marker !== '') throw (refused = mismatch(keys, marker, mode));
    const found = await modeOfEntries();
    if (found === undefined) return;
    if ((found === PLAIN) !== (mode === PLAIN)) throw (refused = mismatch(keys, found, mode));
    const [after] = await claim(mode, true);
    if (after !== mode) throw (refused = mismatch(keys, after, mode));
    confirmed = true;
  }

  return {
    check(write) {
      if (refused) throw refused;
      if (confirmed) return undefined;
      const at = now();
      if (!write && at < lookedAt + UNMARKED_RECHECK_MS) return undefined;
      lookedAt = at;
      return verify(write);
    },
  };
}
