// The Redis suppression store: which recipients must not be sent to, and why. The SMTP hot path asks
// `checkMany` once per transaction; SES bounce/complaint handling, the admin API and imports write.
//
// Storage (test/bench/suppression.ts, 1M addresses of ~29 chars; a plain Redis SET costs 72 B/entry):
// - Membership and the SMTP answer live in 32,768 bucket hashes, field = address (or its HMAC), value =
//   a ~9-byte summary: reason code, since, optional expiry (codec.ts). Hashes this small stay listpacks,
//   so an entry costs little more than its own bytes: 45 B/entry measured, and one HGET answers "is it
//   suppressed, why, since when". (Privacy mode: 89 B/entry, the field being 64 hex characters.)
// - The fuller record (count, lastSeen, SES ids, diagnostic) sits in a parallel detail hash per bucket,
//   written only when an entry has more than its summary, so bulk imports cost the summary alone. A
//   typical SES hard bounce adds ~300 B: its values exceed the listpack limit, and the SES ids are long.
// - Expiring entries are also in one sorted set by expiry time, for sweeping without a scan; expired
//   entries already read as absent before they are swept, which writes do once a minute (so a list
//   fed by soft bounces does not grow without end). An entry counter makes `count` O(1).
// - Soft bounces: one small sorted set per address with a TTL of the window, so their memory is bounded.
// - All keys share one hash tag (keys.ts): the multi-key scripts stay legal in Redis Cluster.
// - A marker says whether the entries are addresses or HMACs under which key (mode.ts): a store opened
//   with another SUPPRESSION_HASH_KEY setting refuses to work rather than silently match nobody.
// Rejected: a SET for membership plus a hash of field → JSON (79 + 111 B/entry in the performance
// notes, and two lookups per check); one key per address (a key costs more than a listpack entry); a
// sorted-set index for listing (a skiplist node per entry): listing walks the buckets in order instead.
// Redis errors, and that refusal, are not translated here: the caller at each boundary maps them
// (SMTP: 451; SNS: 5xx, so SNS delivers again once the setting is put back).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RelayError } from '../shared/errors.js';
import { decodeRecord, decodeSummary, isLive } from './codec.js';
import {
  createLocator,
  encodeEvent,
  expiredOnArrival,
  requireEpochMs,
  requirePositiveInteger,
  suppressArgs,
  type Located,
} from './entry.js';
import { importRecords } from './import.js';
import { bucketOf, createSuppressionKeys, type SuppressionKeys } from './keys.js';
import { listEntries } from './list.js';
import { createModeGuard } from './mode.js';
import { createAddressKeyer } from './privacy.js';
import { execPipeline } from '../shared/redis-exec.js';
import { runScript } from '../shared/lua.js';
import { CHECK, REMOVE, SOFT_BOUNCE, SUPPRESS, SWEEP } from './scripts.js';
import type {
  ImportRecord,
  ImportResult,
  ListOptions,
  ListPage,
  SoftBounceOptions,
  SuppressionDetails,
  SuppressionHit,
  SuppressionRecord,
} from './types.js';

/** Expired entries deleted per `sweepExpired` call unless told otherwise; one script stays short. */
const DEFAULT_SWEEP_LIMIT = 1000;
/**
 * How often (by the store's clock) a store that writes also deletes the entries that have expired:
 * they already read as absent, but each holds its summary, detail and expiry-index entry until then.
 * Every role and command that writes entries sweeps this way, so no separate job is needed.
 */
const SWEEP_EVERY_MS = 60_000;
/** Sweep calls per run at most: 10,000 expired entries a minute, far above any soft-bounce rate. */
const SWEEP_CALLS_PER_RUN = 10;

export interface SuppressionStoreOptions {
  redis: Redis;
  /** The deployment's REDIS_PREFIX; keys go under `${prefix}:supp:`. */
  prefix: string;
  /** Privacy mode: store HMAC-SHA256(hashKey, address) instead of addresses. */
  hashKey?: Buffer | string;
  /** Clock in epoch ms, for expiry and default event times. */
  now?: () => number;
}

export interface SuppressionStore {
  /**
   * Privacy mode: entries are stored, listed and exported under HMACs (64 hex digits), and each
   * method that takes an address also takes such an id.
   */
  readonly hashesAddresses: boolean;
  /** One round trip for any number of addresses; null for addresses not (or no longer) suppressed. */
  checkMany(addresses: string[]): Promise<(SuppressionHit | null)[]>;
  isSuppressed(address: string): Promise<boolean>;
  get(address: string): Promise<SuppressionRecord | null>;
  /** Upsert: keeps firstSeen, moves lastSeen, counts the event, takes the latest details. */
  suppress(address: string, details: SuppressionDetails): Promise<SuppressionRecord>;
  /** True when a live suppression was removed. */
  remove(address: string): Promise<boolean>;
  /** Live entries. */
  count(): Promise<number>;
  list(options: ListOptions): Promise<ListPage>;
  /**
   * Upserts in batches and returns the counts; `progress`, when given, also receives them as each
   * batch is written, so it says how far an import got when a batch fails (what was written stays).
   */
  importMany(records: ImportRecord[], progress?: ImportResult): Promise<ImportResult>;
  /** Deletes up to `limit` expired entries; returns how many. Writes also do this once a minute. */
  sweepExpired(limit?: number): Promise<number>;
  recordSoftBounce(
    address: string,
    options: SoftBounceOptions,
  ): Promise<{ count: number; suppressed: boolean }>;
  /**
   * Forgets the address's soft bounces (a delivery shows the mailbox works again): those up to
   * `before` (the delivery's time), or all when not given.
   */
  resetSoftBounces(address: string, before?: number): Promise<void>;
}

function expiredOnArrivalError(): TypeError {
  return new TypeError('expiresAt must be in the future: an entry that has expired suppresses nobody');
}

function badAddress(): RelayError {
  // The address itself stays out of the message: in privacy mode it must not reach the logs either.
  return new RelayError('SMTP_BAD_ADDRESS', 'suppression address is not an email address');
}

/** The stored summaries of the located addresses, in order: one round trip whatever their number. */
async function readSummaries(
  redis: Redis,
  keys: SuppressionKeys,
  located: Located[],
): Promise<(string | null)[]> {
  if (located.length === 0) return [];
  if (located.length === 1) return [await redis.hget(keys.summary(located[0]!.bucket), located[0]!.field)];
  const bucketKeys = located.map((loc) => keys.summary(loc.bucket));
  return (await runScript(
    redis,
    CHECK,
    bucketKeys,
    located.map((loc) => loc.field),
  )) as (string | null)[];
}

export function createSuppressionStore(options: SuppressionStoreOptions): SuppressionStore {
  const { redis } = options;
  const now = options.now ?? Date.now;
  const keys = createSuppressionKeys(options.prefix);
  const keyer = createAddressKeyer(options.hashKey);
  const locate = createLocator(keyer);
  const guard = createModeGuard(redis, keys, options.hashKey, now);

  let nextSweepAt = -Infinity;
  /** Deletes expired entries at most once per SWEEP_EVERY_MS; called after writes. */
  async function sweepIfDue(): Promise<void> {
    const at = now();
    if (at < nextSweepAt) return;
    nextSweepAt = at + SWEEP_EVERY_MS;
    try {
      for (let call = 0; call < SWEEP_CALLS_PER_RUN; call++) {
        if ((await store.sweepExpired()) < DEFAULT_SWEEP_LIMIT) return;
      }
    } catch {
      // The write itself succeeded; expired entries read as absent until the next run deletes them.
    }
  }

  const store: SuppressionStore = {
    hashesAddresses: keyer.hashes,

    async checkMany(addresses) {
      const located = addresses.map(locate);
      const present = located.filter((loc): loc is Located => loc !== undefined);
      // Once the list's mode is confirmed this is no promise: the SMTP check pays nothing for it.
      const modeChecked = present.length > 0 ? guard.check(false) : undefined;
      if (modeChecked) await modeChecked;
      const summaries = await readSummaries(redis, keys, present);
      const at = now();
      let next = 0;
      return located.map((loc) => {
        if (loc === undefined) return null;
        const summary = summaries[next++];
        if (summary === null || summary === undefined) return null;
        const hit = decodeSummary(summary);
        return isLive(hit, at) ? hit : null;
      });
    },

    async isSuppressed(address) {
      const [hit] = await store.checkMany([address]);
      return hit !== null && hit !== undefined;
    },

    async get(address) {
      const loc = locate(address);
      if (loc === undefined) return null;
      await guard.check(false);
      const [summary, detail] = await execPipeline<string | null>(
        redis.pipeline().hget(keys.summary(loc.bucket), loc.field).hget(keys.detail(loc.bucket), loc.field),
      );
      if (summary === null || summary === undefined || !isLive(decodeSummary(summary), now())) return null;
      return decodeRecord(loc.field, summary, detail ?? null);
    },

    async suppress(address, details) {
      const loc = locate(address);
      if (loc === undefined) throw badAddress();
      const at = now();
      if (expiredOnArrival(details, at)) throw expiredOnArrivalError();
      const args = suppressArgs(loc.field, details, at, keyer);
      await guard.check(true);
      const reply = (await runScript(
        redis,
        SUPPRESS,
        [keys.expiry, keys.entries, keys.summary(loc.bucket), keys.detail(loc.bucket)],
        [at, '1', ...args],
      )) as [number, string, string];
      await sweepIfDue();
      return decodeRecord(loc.field, reply[1], reply[2] === '' ? null : reply[2]);
    },

    async remove(address) {
      const loc = locate(address);
      if (loc === undefined) return false;
      await guard.check(false);
      const keyList = [keys.summary(loc.bucket), keys.detail(loc.bucket), keys.expiry, keys.entries];
      const removed = await runScript(
        redis,
        REMOVE,
        [...keyList, keys.softBounces(loc.field)],
        [loc.field, now()],
      );
      return removed === 1;
    },

    async count() {
      await guard.check(false);
      const [entries, expired] = await execPipeline<string | number | null>(
        redis.pipeline().get(keys.entries).zcount(keys.expiry, '-inf', now()),
      );
      return Math.max(0, Number(entries ?? 0) - Number(expired ?? 0));
    },

    async list(listOptions) {
      await guard.check(false);
      return listEntries({ redis, keys, now }, listOptions);
    },

    async importMany(records, progress) {
      await guard.check(true);
      const result = await importRecords({ redis, keys, keyer, locate, now }, records, progress);
      await sweepIfDue();
      return result;
    },

    async sweepExpired(limit = DEFAULT_SWEEP_LIMIT) {
      requirePositiveInteger(limit, 'sweep limit');
      await guard.check(false);
      const at = now();
      const fields = await redis.zrangebyscore(keys.expiry, '-inf', at, 'LIMIT', 0, limit);
      if (fields.length === 0) return 0;
      const keyList = fields.flatMap((field) => [
        keys.summary(bucketOf(field)),
        keys.detail(bucketOf(field)),
      ]);
      const removed = await runScript(redis, SWEEP, [keys.expiry, keys.entries, ...keyList], [at, ...fields]);
      return Number(removed);
    },

    async recordSoftBounce(address, soft) {
      const loc = locate(address);
      if (loc === undefined) throw badAddress();
      const current = now();
      const at = requireEpochMs(soft.at ?? current, 'soft bounce time');
      const windowMs = requirePositiveInteger(soft.windowMs, 'soft bounce windowMs');
      const limit = requirePositiveInteger(soft.limit, 'soft bounce limit');
      const suppressForMs =
        soft.suppressForMs === undefined
          ? undefined
          : requirePositiveInteger(soft.suppressForMs, 'suppressForMs');
      const expiresAt = suppressForMs === undefined ? undefined : at + suppressForMs;
      const details = { ...soft.details, reason: 'bounce' as const, bounceType: 'Transient', at, expiresAt };
      const event = encodeEvent(details, current, keyer);
      const eventId = `${at}:${randomBytes(6).toString('base64url')}`;
      const keyList = [keys.softBounces(loc.field), keys.summary(loc.bucket), keys.detail(loc.bucket)];
      await guard.check(true);
      const reply = (await runScript(
        redis,
        SOFT_BOUNCE,
        [...keyList, keys.expiry, keys.entries],
        [
          current,
          at,
          windowMs,
          limit,
          eventId,
          loc.field,
          event.at36,
          event.expiresAt,
          event.expiresAt36,
          event.json,
        ],
      )) as [number, number];
      await sweepIfDue();
      return { count: reply[0], suppressed: reply[1] === 1 };
    },

    async resetSoftBounces(address, before) {
      const loc = locate(address);
      if (loc === undefined) return;
      await guard.check(false);
      const key = keys.softBounces(loc.field);
      if (before === undefined) await redis.del(key);
      else await redis.zremrangebyscore(key, '-inf', before);
    },
  };
  return store;
}
