// `suppression import <file>` and `suppression export` as files: the parsing, formatting and batching
// are src/ops (shared with the admin API); this module adds what a terminal needs — streaming from a
// file or stdin, progress on stderr, a temporary file renamed at the end, and the summary.
import fs from 'node:fs';
import readline from 'node:readline';
import {
  exportSuppressions,
  importSuppressions,
  type ImportReport,
  type SuppressionFormat,
} from '../ops/index.js';
import type { SuppressionStore } from '../suppression/index.js';
import { err, plural } from './output.js';
import { createProgress } from './progress.js';

export interface ImportSummary extends ImportReport {
  source: string;
  /** Physical lines read; 0 for sources that are not files. */
  lines: number;
}

/** The format a file name suggests; CSV unless it ends in .jsonl, .ndjson or .json. */
export function formatFromName(name: string): SuppressionFormat {
  return /\.(jsonl|ndjson|json)$/i.test(name) ? 'jsonl' : 'csv';
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

/** Passes lines through while counting them and drawing progress by bytes read. */
async function* counted(
  lines: AsyncIterable<string>,
  input: NodeJS.ReadableStream,
  totalBytes: number | undefined,
  tally: { lines: number },
): AsyncGenerator<string> {
  const progress = createProgress({ label: 'importing', unit: totalBytes === undefined ? 'lines' : 'bytes' });
  try {
    for await (const line of lines) {
      tally.lines++;
      const bytesRead = (input as Partial<fs.ReadStream>).bytesRead;
      progress.update(
        totalBytes === undefined || bytesRead === undefined ? tally.lines : bytesRead,
        totalBytes,
      );
      yield line;
    }
  } finally {
    progress.finish();
  }
}

export async function importFile(
  store: SuppressionStore,
  file: string,
  format: SuppressionFormat,
): Promise<ImportSummary> {
  const fromStdin = file === '-';
  const input = fromStdin ? process.stdin : fs.createReadStream(file);
  // Opening errors (no such file) surface here as a rejection, before any line is read.
  const totalBytes = fromStdin ? undefined : (await fs.promises.stat(file)).size;
  const tally = { lines: 0 };
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  const report = await importSuppressions(store, counted(lines, input, totalBytes, tally), format);
  return { ...report, source: fromStdin ? 'stdin' : file, lines: tally.lines };
}

interface Sink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

function stdoutSink(): Sink {
  return {
    async write(text) {
      if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    },
    async close() {},
  };
}

/** A file handle rather than a write stream: every error surfaces as a rejection, none as an event. */
async function fileSink(path: string): Promise<Sink> {
  const handle = await fs.promises.open(path, 'w');
  return {
    async write(text) {
      await handle.write(text);
    },
    close: () => handle.close(),
  };
}

/**
 * Writes every live entry to `outPath` (through a temporary file renamed at the end, so an export that
 * fails half-way never leaves a file that looks complete) or to stdout. Returns the entries written.
 */
export async function exportEntries(
  store: SuppressionStore,
  format: SuppressionFormat,
  outPath: string | undefined,
): Promise<number> {
  const tmpPath = outPath && `${outPath}.${process.pid}.tmp`;
  const sink = tmpPath ? await fileSink(tmpPath) : stdoutSink();
  const total = await store.count();
  const progress = createProgress({ label: 'exporting', unit: 'entries' });
  let written = 0;
  let header = format === 'csv';
  try {
    for await (const chunk of exportSuppressions(store, format)) {
      await sink.write(chunk);
      // One line per entry; the CSV header is the first chunk's first line.
      written += chunk.split('\n').length - 1 - (header ? 1 : 0);
      header = false;
      progress.update(written, Math.max(total, written));
    }
    await sink.close();
    if (tmpPath && outPath) await fs.promises.rename(tmpPath, outPath);
  } catch (e) {
    await sink.close().catch(() => undefined);
    if (tmpPath) await fs.promises.rm(tmpPath, { force: true });
    throw e;
  } finally {
    progress.finish();
  }
  return written;
}
