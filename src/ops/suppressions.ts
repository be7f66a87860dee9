// Bulk suppression import and export over the store, for the admin API and the CLI alike: import
// parses line by line and writes in batches (memory stays bounded however long the input), export
// walks the store page by page and yields text chunks the caller streams out.
import type { SuppressionStore } from '../suppression/store.js';
import type { ImportRecord } from '../suppression/types.js';
import {
  createImportLineParser,
  CSV_HEADER,
  formatRecord,
  type SuppressionFormat,
} from './suppression-io.js';

/** Records handed to the store at once: it batches again inside; this bounds what we hold. */
const IMPORT_CHUNK_RECORDS = 10_000;
/** Line numbers kept in a report: a wholly wrong file must not make a multi-megabyte answer. */
export const MAX_REPORTED_ERROR_LINES = 1000;
/** Entries per store page when exporting (the store's own maximum). */
const EXPORT_PAGE_SIZE = 1000;

export interface ImportReport {
  added: number;
  updated: number;
  /** Lines that could not be imported (bad syntax, not an address, unknown reason). */
  invalid: number;
  /** Their line numbers, the first MAX_REPORTED_ERROR_LINES of them. */
  errors: number[];
  /** The first few errors with what was wrong, for a person reading the report. */
  errorDetails: { line: number; error: string }[];
}

const MAX_ERROR_DETAILS = 20;

/** Splits text into lines; an iterable so the CLI can pass a readline interface instead. */
export function* textLines(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    if (end === -1) {
      if (start < text.length) yield text.slice(start);
      return;
    }
    yield text.slice(start, end);
    start = end + 1;
  }
}

export function emptyImportReport(): ImportReport {
  return { added: 0, updated: 0, invalid: 0, errors: [], errorDetails: [] };
}

/**
 * Imports every line; the counts go into `report` as each batch is written, so a caller that passes
 * its own can still say how far an import got when a batch fails (Redis gone half-way).
 */
export async function importSuppressions(
  store: SuppressionStore,
  lines: Iterable<string> | AsyncIterable<string>,
  format: SuppressionFormat,
  report: ImportReport = emptyImportReport(),
): Promise<ImportReport> {
  const parser = createImportLineParser(format);
  let chunk: ImportRecord[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const records = chunk;
    chunk = [];
    // The store adds each batch's counts to the report as it is written, so they are exact even when
    // a batch fails part-way through the chunk. Lines were validated above; the store refusing one
    // (an impossible date, an expiry already past) still counts as invalid.
    await store.importMany(records, report);
  };
  for await (const text of lines) {
    const parsed = parser.next(text);
    if (parsed === undefined) continue;
    if ('error' in parsed) {
      report.invalid++;
      if (report.errors.length < MAX_REPORTED_ERROR_LINES) report.errors.push(parsed.line);
      if (report.errorDetails.length < MAX_ERROR_DETAILS) report.errorDetails.push(parsed);
      continue;
    }
    chunk.push(parsed.record);
    if (chunk.length >= IMPORT_CHUNK_RECORDS) await flush();
  }
  await flush();
  return report;
}

/**
 * Yields the whole list in `format`, one chunk of text per store page (CSV starts with its header).
 * Entries added or removed during the walk may or may not appear; the rest appear exactly once.
 * Nothing is yielded before the first page is read (the CSV header comes with it): a caller that
 * sends its answer's headers with the first chunk can still answer a failed read (Redis down) with
 * an error rather than a download cut short.
 */
export async function* exportSuppressions(
  store: SuppressionStore,
  format: SuppressionFormat,
  pageSize = EXPORT_PAGE_SIZE,
): AsyncGenerator<string> {
  let header = format === 'csv' ? `${CSV_HEADER}\n` : '';
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: pageSize, ...(cursor === undefined ? {} : { cursor }) });
    const text = header + page.items.map((record) => `${formatRecord(format, record)}\n`).join('');
    if (text !== '') yield text;
    header = '';
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
