// Every Redis key of the suppression store, built here and nowhere else, all under `${prefix}:supp:`.
//
// Redis Cluster: all suppression keys share one hash tag, so they live in one slot. That keeps the
// hot-path `checkMany` a single pipeline (ioredis sends a cluster pipeline to one node only) and makes
// the Lua scripts, which touch a bucket, its detail bucket, the expiry index and the entry counter
// together, legal in a cluster. The cost is that the suppression data cannot spread over shards; at
// ~50 B per entry a million entries is ~50 MB, which one shard holds easily. If the prefix already
// carries a hash tag (BullMQ's cluster advice is a prefix like `{relay}`), that tag is used as is.
import { hashTagOf } from '../shared/hash-tag.js';

/**
 * How many summary buckets the entries are spread over. Each bucket is a small hash that Redis keeps
 * as a listpack while it holds at most `hash-max-listpack-entries` (128 by default) fields: 32,768
 * buckets stay under that up to ~2.5 million entries (about 30 per bucket at 1M). Changing this number
 * moves every entry to another bucket, so it is fixed for the life of a prefix.
 */
export const SUPPRESSION_BUCKET_COUNT = 32_768;

export interface SuppressionKeys {
  /** Hash field → compact summary (reason, since, expiry): membership and the SMTP answer. */
  summary(bucket: number): string;
  /** Hash field → count, lastSeen and event details; only for entries that have more than the summary. */
  detail(bucket: number): string;
  /** Sorted set of entries that expire, scored by expiry time; lets a sweep find them without a scan. */
  readonly expiry: string;
  /** Number of stored entries (live or expired and not yet swept). */
  readonly entries: string;
  /** Sorted set of one address's recent soft bounces, scored by time; expires with its window. */
  softBounces(field: string): string;
  /** How the entries name addresses: plain, or HMACs under one key (mode.ts). */
  readonly mode: string;
  /** A pattern matching every key of the store, for messages that tell an operator what to delete. */
  readonly pattern: string;
}

export function createSuppressionKeys(prefix: string): SuppressionKeys {
  // The tag as Redis reads it (first `{`, first `}` after it, not empty), so that a prefix such as
  // `{}{x}`, in which Redis finds no tag, gets one of its own.
  const base = hashTagOf(prefix) !== undefined ? `${prefix}:supp` : `${prefix}:supp:{${prefix}}`;
  return {
    summary: (bucket) => `${base}:s:${bucket}`,
    detail: (bucket) => `${base}:d:${bucket}`,
    expiry: `${base}:exp`,
    entries: `${base}:n`,
    softBounces: (field) => `${base}:soft:${field}`,
    mode: `${base}:mode`,
    pattern: `${base}:*`,
  };
}

/**
 * The bucket of an entry: FNV-1a over the field's UTF-16 code units, then a murmur-style finaliser so
 * the low bits used by the modulo are well mixed. Fast (no crypto) because `checkMany` runs it for every
 * recipient; it only needs to spread entries evenly, not to resist an attacker.
 */
export function bucketOf(field: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < field.length; i++) {
    hash ^= field.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  return (hash >>> 0) % SUPPRESSION_BUCKET_COUNT;
}
