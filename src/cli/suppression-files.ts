// `suppression import <file>` and `suppression export` as files: the parsing, formatting and batching
// are src/ops (shared with the admin API); this module adds what a terminal needs — streaming from a
// file or stdin, progress on stderr, the export's target (export-target.ts), and the summary.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import {
  emptyImportReport,
  exportSuppressions,
  importSuppressions,
  type ImportReport,
  type SuppressionFormat,
} from '../ops/index.js';
import type { SuppressionStore } from '../suppression/index.js';
import { fileError } from './file-errors.js';
import { sniffFormat, unreadableInput } from './import-format.js';
import { err, plural, printJson } from './output.js';
import { createProgress } from './progress.js';
import { openExportTarget } from './export-target.js';
import { usageError } from './runtime.js';

export interface ImportSummary extends ImportReport {
  source: string;
  /** Physical lines read; 0 for sources that are not files. */
  lines: number;
}

/** The format a file name names by its extension; undefined when it names none (and for `-`). */
export function formatFromName(name: string): SuppressionFormat | undefined {
  if (/\.(jsonl|ndjson|json)$/i.test(name)) return 'jsonl';
  return /\.csv$/i.test(name) ? 'csv' : undefined;
}

export function printImportSummary(summary: ImportSummary): void {
  err(
    `${summary.source}: ${summary.added} added, ${summary.updated} updated, ${summary.invalid} invalid` +
      (summary.lines > 0 ? ` (${plural(summary.lines, 'line')})` : ''),
  );
  for (const problem of summary.errorDetails) {
    err(problem.line > 0 ? `  line ${problem.line}: ${problem.error}` : `  ${problem.error}`);
  }
  const unnamed = summary.invalid - summary.errorDetails.length;
  if (unnamed > 0) err(`  … and ${plural(unnamed, 'more invalid entry', 'more invalid entries')}`);
}

/** The counts of an import an error stopped part-way, on stderr, or on stdout as JSON with --json. */
export function printPartialImport(summary: ImportSummary, json?: boolean): void {
  if (json) {
    printJson({ ...summary, complete: false });
    return;
  }
  err(
    `${summary.source}: stopped part-way by the error below, after ${summary.added} added, ` +
      `${summary.updated} updated, ${summary.invalid} invalid` +
      (summary.lines > 0 ? ` (${plural(summary.lines, 'line')} read)` : '') +
      '; the entries written stay: import again to finish (they then count as updated)',
  );
}

interface ImportInput {
  stream: Readable;
  /** The file's size, for progress by bytes; undefined for stdin. */
  totalBytes: number | undefined;
  source: string;
}

/** Opens the file (or stdin for `-`); a file that cannot be opened is a one-line error naming it. */
async function openInput(file: string): Promise<ImportInput> {
  if (file === '-') return { stream: process.stdin, totalBytes: undefined, source: 'stdin' };
  try {
    // Open, then stat the open file, then stream from it: every error up to here is a rejection.
    const handle = await fs.promises.open(file, 'r');
    const { size } = await handle.stat().catch(async (e: unknown) => {
      await handle.close();
      throw e;
    });
    return { stream: handle.createReadStream(), totalBytes: size, source: file };
  } catch (e) {
    throw fileError('read', file, e);
  }
}

/** Passes lines through while counting them and drawing progress by bytes read. */
async function* counted(input: ImportInput, tally: { lines: number }): AsyncGenerator<string> {
  const { stream, totalBytes } = input;
  const progress = createProgress({ label: 'importing', unit: totalBytes === undefined ? 'lines' : 'bytes' });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      tally.lines++;
      const bytesRead = (stream as Partial<fs.ReadStream>).bytesRead;
      progress.update(
        totalBytes === undefined || bytesRead === undefined ? tally.lines : bytesRead,
        totalBytes,
      );
      yield line;
    }
  } catch (e) {
    // readline passes on the stream's errors (say, EISDIR for a directory): name the file in them.
    throw fileError('read', input.source, e);
  } finally {
    progress.finish();
  }
}

/** The summary of an import from `source` before anything is read; the import fills it in. */
export function emptySummary(source: string): ImportSummary {
  return { ...emptyImportReport(), source, lines: 0 };
}

/**
 * Imports a file or stdin into `summary`, which holds the counts so far if the import fails part-way.
 * Without a format, the first non-blank line decides it (import-format.ts); an input that cannot be
 * read at all (UTF-16, a JSON array) is refused whole, exit 2, before anything is written.
 */
export async function importFile(
  store: SuppressionStore,
  file: string,
  format: SuppressionFormat | undefined,
  summary: ImportSummary,
): Promise<void> {
  const input = await openInput(file);
  const sniffed = await sniffFormat(counted(input, summary));
  const refusal = unreadableInput(sniffed.first);
  if (refusal) {
    input.stream.destroy();
    throw usageError(`${input.source} ${refusal}; nothing was imported`);
  }
  await importSuppressions(store, sniffed.lines, format ?? sniffed.format, summary);
}

/**
 * Writes every live entry to `outPath` (see export-target.ts for how) or to stdout (`-` or none).
 * Returns the entries written; rejects with StdoutClosedError when the reader of stdout has gone.
 */
export async function exportEntries(
  store: SuppressionStore,
  format: SuppressionFormat,
  outPath: string | undefined,
): Promise<number> {
  const target = await openExportTarget(outPath);
  const progress = createProgress({ label: 'exporting', unit: 'entries' });
  let written = 0;
  let header = format === 'csv';
  try {
    // Inside the try: when Redis fails here, the temporary file just opened is removed too.
    const total = await store.count();
    for await (const chunk of exportSuppressions(store, format)) {
      await target.write(chunk);
      // One line per entry; the CSV header is the first chunk's first line.
      written += chunk.split('\n').length - 1 - (header ? 1 : 0);
      header = false;
      progress.update(written, Math.max(total, written));
    }
    await target.commit();
  } catch (e) {
    await target.abort();
    throw e;
  } finally {
    progress.finish();
  }
  return written;
}
