// Paged listing of the suppression store for the admin API and exports. Entries are visited in a fixed
// order (bucket number, then field) and the cursor names the last entry returned, so pages stay stable
// while entries come and go: an entry present for the whole listing is returned exactly once, with no
// extra index to pay for in memory. The order is by hash, not by time.
import type { Redis } from 'ioredis';
import { decodeRecord, reasonCode } from './codec.js';
import { SUPPRESSION_BUCKET_COUNT, type SuppressionKeys } from './keys.js';
import { execPipeline } from '../shared/redis-exec.js';
import { runScript } from '../shared/lua.js';
import { LIST } from './scripts.js';
import type { ListOptions, ListPage } from './types.js';

/** Entries one LIST script should read: ~1 ms of Redis time, so SMTP checks barely wait behind it. */
const TARGET_ENTRIES_PER_ROUND_TRIP = 2000;
const MIN_BUCKETS_PER_ROUND_TRIP = 32;
/** For an empty or tiny store: the whole key space in 8 round trips. */
const MAX_BUCKETS_PER_ROUND_TRIP = 4096;
/**
 * Bounds one call's work when a filter matches little in a large store: past this many entries read,
 * the call returns what it found and a cursor. A store this small is always listed in one call.
 */
const MAX_ENTRIES_READ_PER_CALL = 100_000;
export const MAX_LIST_LIMIT = 1000;

export interface ListContext {
  redis: Redis;
  keys: SuppressionKeys;
  now: () => number;
}

interface Position {
  bucket: number;
  /** Entries of `bucket` up to and including this field were returned already. */
  after: string;
}

interface Found {
  bucket: number;
  field: string;
  summary: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.bucket}:${position.after}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Position {
  if (cursor === undefined || cursor === '') return { bucket: 0, after: '' };
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^(\d+):(.*)$/s.exec(text);
  const bucket = Number(match?.[1]);
  if (!match || !Number.isInteger(bucket) || bucket >= SUPPRESSION_BUCKET_COUNT) {
    throw new RangeError('invalid suppression list cursor');
  }
  return { bucket, after: match[2]! };
}

/** Sizes the next round trip from the density seen so far, to read about the target number of entries. */
function nextBatch(read: number, buckets: number): number {
  const perBucket = read / Math.max(buckets, 1);
  const wanted = perBucket === 0 ? MAX_BUCKETS_PER_ROUND_TRIP : TARGET_ENTRIES_PER_ROUND_TRIP / perBucket;
  return Math.min(MAX_BUCKETS_PER_ROUND_TRIP, Math.max(MIN_BUCKETS_PER_ROUND_TRIP, Math.ceil(wanted)));
}

type ListReply = [number, ...(number | string[])[]];

/** Collects matching summaries from the cursor on; returns where the next page starts. */
async function scan(ctx: ListContext, options: ListOptions, limit: number) {
  const found: Found[] = [];
  const start = decodeCursor(options.cursor);
  const filters = [options.reason === undefined ? '' : reasonCode(options.reason), options.since ?? ''];
  const now = ctx.now();
  let bucket = start.bucket;
  let batch = MIN_BUCKETS_PER_ROUND_TRIP;
  let read = 0;
  while (bucket < SUPPRESSION_BUCKET_COUNT && read < MAX_ENTRIES_READ_PER_CALL) {
    const end = Math.min(SUPPRESSION_BUCKET_COUNT, bucket + batch);
    const keys = Array.from({ length: end - bucket }, (_, i) => ctx.keys.summary(bucket + i));
    const [count, ...matches] = (await runScript(ctx.redis, LIST, keys, [now, ...filters])) as ListReply;
    read += count;
    for (let i = 0; i < matches.length; i += 2) {
      const b = bucket + (matches[i] as number);
      const pairs = matches[i + 1] as string[];
      const summaries = new Map<string, string>();
      for (let j = 0; j < pairs.length; j += 2) summaries.set(pairs[j]!, pairs[j + 1]!);
      const after = b === start.bucket ? start.after : '';
      for (const field of [...summaries.keys()].sort()) {
        if (field <= after) continue;
        found.push({ bucket: b, field, summary: summaries.get(field)! });
        if (found.length === limit) return { found, next: { bucket: b, after: field } };
      }
    }
    batch = nextBatch(read, end - start.bucket);
    bucket = end;
  }
  return { found, next: bucket < SUPPRESSION_BUCKET_COUNT ? { bucket, after: '' } : undefined };
}

export async function listEntries(ctx: ListContext, options: ListOptions): Promise<ListPage> {
  if (!Number.isInteger(options.limit) || options.limit < 1) {
    throw new RangeError('suppression list limit must be a positive integer');
  }
  const { found, next } = await scan(ctx, options, Math.min(options.limit, MAX_LIST_LIMIT));
  const pipeline = ctx.redis.pipeline();
  for (const entry of found) pipeline.hget(ctx.keys.detail(entry.bucket), entry.field);
  const details = found.length === 0 ? [] : await execPipeline<string | null>(pipeline);
  return {
    items: found.map((entry, i) => decodeRecord(entry.field, entry.summary, details[i] ?? null)),
    nextCursor: next && encodeCursor(next),
  };
}
