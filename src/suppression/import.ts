// Bulk import into the suppression store (an SES account-list export, another system's list): batches
// of records go through the same upsert script as `suppress`, several batches in flight, so an import
// of a million addresses takes seconds and never holds Redis for long in one script.
import type { Redis } from 'ioredis';
import { expiredOnArrival, suppressArgs, type Locator } from './entry.js';
import type { SuppressionKeys } from './keys.js';
import type { AddressKeyer } from './privacy.js';
import { runScript } from '../shared/lua.js';
import { SUPPRESS } from './scripts.js';
import type { ImportRecord, ImportResult } from './types.js';

/** Records per script call: ~1 ms of Redis time each, short enough not to delay SMTP checks. */
const IMPORT_BATCH_SIZE = 500;
/** Batches in flight: keeps Redis busy while Node prepares the next one. */
const IMPORT_BATCHES_IN_FLIGHT = 4;

export interface ImportContext {
  redis: Redis;
  keys: SuppressionKeys;
  keyer: AddressKeyer;
  locate: Locator;
  now: () => number;
}

/**
 * SUPPRESS keys and args for a batch; records that are not addresses or valid events are counted as
 * invalid, and so are records that expired before they arrive (an old export imported back): written,
 * they would suppress nobody, or end a live manual entry.
 */
function prepareBatch(ctx: ImportContext, batch: ImportRecord[], now: number, result: ImportResult) {
  const keys: string[] = [ctx.keys.expiry, ctx.keys.entries];
  const args: (string | number)[] = [now, '0'];
  for (const record of batch) {
    const loc = ctx.locate(record.address);
    let recordArgs: string[] | undefined;
    try {
      const expired = expiredOnArrival(record.details, now);
      recordArgs = loc && !expired ? suppressArgs(loc.field, record.details, now, ctx.keyer) : undefined;
    } catch {
      recordArgs = undefined;
    }
    if (loc === undefined || recordArgs === undefined) {
      result.invalid++;
      continue;
    }
    keys.push(ctx.keys.summary(loc.bucket), ctx.keys.detail(loc.bucket));
    args.push(...recordArgs);
  }
  return { keys, args };
}

/** Writes one batch; its counts are returned only once the batch is written. */
async function importBatch(ctx: ImportContext, batch: ImportRecord[]): Promise<ImportResult> {
  const counts: ImportResult = { added: 0, updated: 0, invalid: 0 };
  const { keys, args } = prepareBatch(ctx, batch, ctx.now(), counts);
  if (keys.length === 2) return counts;
  const added = (await runScript(ctx.redis, SUPPRESS, keys, args)) as number[];
  for (const flag of added) {
    if (flag === 1) counts.added++;
    else counts.updated++;
  }
  return counts;
}

function addCounts(into: ImportResult, counts: ImportResult): void {
  into.added += counts.added;
  into.updated += counts.updated;
  into.invalid += counts.invalid;
}

/**
 * Imports the records and returns their counts, which also go into `progress` (when given) as each
 * batch is written: when a batch fails, no further batch starts, the ones in flight finish, and
 * `progress` then says exactly what the written batches held before the error is thrown.
 */
export async function importRecords(
  ctx: ImportContext,
  records: ImportRecord[],
  progress?: ImportResult,
): Promise<ImportResult> {
  const result: ImportResult = { added: 0, updated: 0, invalid: 0 };
  // Loaded up front so that concurrent batches never all miss the script cache and fall back to EVAL.
  await ctx.redis.script('LOAD', SUPPRESS.source);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < records.length && !failed) {
      const batch = records.slice(next, next + IMPORT_BATCH_SIZE);
      next += IMPORT_BATCH_SIZE;
      let counts: ImportResult;
      try {
        counts = await importBatch(ctx, batch);
      } catch (err) {
        failed = true;
        throw err;
      }
      addCounts(result, counts);
      if (progress) addCounts(progress, counts);
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: IMPORT_BATCHES_IN_FLIGHT }, worker));
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  return result;
}
