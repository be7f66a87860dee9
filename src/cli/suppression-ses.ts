// The SES account-level suppression list and ours: `import --from-ses` reads SES's list page by page
// (ListSuppressedDestinations) into the store; `export --to-ses` puts our entries on SES's list
// (PutSuppressedDestination), one call per address, because SES has no batch call outside import jobs.
import {
  ListSuppressedDestinationsCommand,
  PutSuppressedDestinationCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import { errorMessage } from '../shared/errors.js';
import type { ImportRecord, SuppressionRecord, SuppressionStore } from '../suppression/index.js';
import { createProgress } from './progress.js';
import { createSesCaller } from './ses-calls.js';
import type { ImportSummary } from './suppression-files.js';

/** The largest page SES serves for ListSuppressedDestinations. */
const SES_LIST_PAGE_SIZE = 1000;
/** Entries per list call while reading our store for an export. */
const STORE_PAGE_ENTRIES = 1000;
/** Export errors in a row before the export stops: a systemic refusal (sandbox, permissions) repeats. */
const MAX_CONSECUTIVE_FAILURES = 5;

export const SES_IMPORT_SOURCE = 'SES account suppression list';

/** Imports SES's list into `summary`, which holds the counts so far if the import fails part-way. */
export async function importFromSes(
  ses: SESv2Client,
  store: SuppressionStore,
  ratePerSecond: number,
  summary: ImportSummary,
): Promise<void> {
  const caller = createSesCaller({ ratePerSecond });
  const progress = createProgress({ label: 'importing from SES', unit: 'entries' });
  let seen = 0;
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const page = await caller.call(() =>
      ses.send(
        new ListSuppressedDestinationsCommand({
          PageSize: SES_LIST_PAGE_SIZE,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      ),
    );
    pages++;
    const records: ImportRecord[] = [];
    for (const entry of page.SuppressedDestinationSummaries ?? []) {
      seen++;
      if (!entry.EmailAddress) {
        summary.invalid++;
        continue;
      }
      records.push({
        address: entry.EmailAddress,
        details: {
          reason: entry.Reason === 'COMPLAINT' ? 'complaint' : 'bounce',
          ...(entry.LastUpdateTime ? { at: Math.min(entry.LastUpdateTime.getTime(), Date.now()) } : {}),
        },
      });
    }
    if (records.length > 0) {
      // The store counts what it cannot take (not an address) as invalid; SES lists only addresses.
      const result = await store.importMany(records);
      summary.added += result.added;
      summary.updated += result.updated;
      summary.invalid += result.invalid;
    }
    progress.update(seen, undefined, `(${pages} pages)`);
    nextToken = page.NextToken;
  } while (nextToken);
  progress.finish();
}

export interface ExportToSesSummary {
  pushed: number;
  /** Entries with an expiry: SES keeps what it is given for good, so a temporary entry stays home. */
  skippedExpiring: number;
  failed: number;
  /** The first errors, "address: message". */
  errors: string[];
  /** Set when the export stopped early after repeated failures. */
  stoppedEarly: boolean;
}

/** SES knows two reasons; our manual and imported entries go as BOUNCE, which blocks the same way. */
export function sesReason(record: SuppressionRecord): 'BOUNCE' | 'COMPLAINT' {
  return record.reason === 'complaint' ? 'COMPLAINT' : 'BOUNCE';
}

export interface SesExportCount {
  /** Entries without an expiry: what an export to SES puts there. */
  pushable: number;
  /** Entries with one, which stay local. */
  expiring: number;
}

/** Walks the store (no SES call) to count what `exportToSes` would push, for --dry-run and the question. */
export async function countForSes(store: SuppressionStore): Promise<SesExportCount> {
  const count: SesExportCount = { pushable: 0, expiring: 0 };
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: STORE_PAGE_ENTRIES, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      if (record.expiresAt === undefined) count.pushable++;
      else count.expiring++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

export async function exportToSes(
  ses: SESv2Client,
  store: SuppressionStore,
  ratePerSecond: number,
): Promise<ExportToSesSummary> {
  const caller = createSesCaller({ ratePerSecond });
  const result: ExportToSesSummary = {
    pushed: 0,
    skippedExpiring: 0,
    failed: 0,
    errors: [],
    stoppedEarly: false,
  };
  const total = await store.count();
  const progress = createProgress({ label: 'exporting to SES', unit: 'entries' });
  let done = 0;
  let failuresInARow = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: STORE_PAGE_ENTRIES, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      done++;
      if (record.expiresAt !== undefined) {
        result.skippedExpiring++;
        continue;
      }
      try {
        await caller.call(() =>
          ses.send(
            new PutSuppressedDestinationCommand({ EmailAddress: record.address, Reason: sesReason(record) }),
          ),
        );
        result.pushed++;
        failuresInARow = 0;
      } catch (e) {
        result.failed++;
        failuresInARow++;
        if (result.errors.length < 10) result.errors.push(`${record.address}: ${errorMessage(e)}`);
        if (failuresInARow >= MAX_CONSECUTIVE_FAILURES) {
          result.stoppedEarly = true;
          progress.finish();
          return result;
        }
      }
      progress.update(done, Math.max(total, done), `(rate ${ratePerSecond}/s)`);
    }
    cursor = page.nextCursor;
  } while (cursor);
  progress.finish();
  return result;
}
