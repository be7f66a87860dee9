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
import { fileError } from './file-errors.js';
import { sniffFormat } from './import-format.js';
import { err, plural } from './output.js';
import { createProgress } from './progress.js';
import { writeStdout } from './stdout.js';

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

interface ImportInput {
  stream: NodeJS.ReadableStream;
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

/** Imports a file or stdin; without a format, the first non-blank line decides it (import-format.ts). */
export async function importFile(
  store: SuppressionStore,
  file: string,
  format: SuppressionFormat | undefined,
): Promise<ImportSummary> {
  const input = await openInput(file);
  const tally = { lines: 0 };
  const sniffed = format
    ? { format, lines: counted(input, tally) }
    : await sniffFormat(counted(input, tally));
  const report = await importSuppressions(store, sniffed.lines, sniffed.format);
  return { ...report, source: input.source, lines: tally.lines };
}

interface Sink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/** Stdout; a reader that leaves (`| head`) makes a write reject with StdoutClosedError. */
function stdoutSink(): Sink {
  return { write: writeStdout, async close() {} };
}

/**
 * A file handle rather than a write stream: every error surfaces as a rejection, none as an event.
 * Errors name `shownPath`, the file the operator asked for, not the temporary file behind it.
 */
async function fileSink(path: string, shownPath: string): Promise<Sink> {
  const handle = await fs.promises.open(path, 'w').catch((e: unknown) => {
    throw fileError('write', shownPath, e);
  });
  return {
    async write(text) {
      await handle.write(text).catch((e: unknown) => {
        throw fileError('write', shownPath, e);
      });
    },
    close: () => handle.close(),
  };
}

/**
 * Writes every live entry to `outPath` (through a temporary file renamed at the end, so an export that
 * fails half-way never leaves a file that looks complete) or to stdout. Returns the entries written;
 * rejects with StdoutClosedError when the reader of stdout has gone.
 */
export async function exportEntries(
  store: SuppressionStore,
  format: SuppressionFormat,
  outPath: string | undefined,
): Promise<number> {
  const tmpPath = outPath && `${outPath}.${process.pid}.tmp`;
  const sink = tmpPath && outPath ? await fileSink(tmpPath, outPath) : stdoutSink();
  const progress = createProgress({ label: 'exporting', unit: 'entries' });
  let written = 0;
  let header = format === 'csv';
  try {
    // Inside the try: when Redis fails here, the temporary file just opened is removed too.
    const total = await store.count();
    for await (const chunk of exportSuppressions(store, format)) {
      await sink.write(chunk);
      // One line per entry; the CSV header is the first chunk's first line.
      written += chunk.split('\n').length - 1 - (header ? 1 : 0);
      header = false;
      progress.update(written, Math.max(total, written));
    }
    await sink.close();
    if (tmpPath && outPath)
      await fs.promises.rename(tmpPath, outPath).catch((e: unknown) => {
        throw fileError('write', outPath, e);
      });
  } catch (e) {
    await sink.close().catch(() => undefined);
    if (tmpPath) await fs.promises.rm(tmpPath, { force: true });
    throw e;
  } finally {
    progress.finish();
  }
  return written;
}
