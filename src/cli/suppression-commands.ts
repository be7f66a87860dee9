// `ses-relay suppression …`: look at and change the suppression list the gateway enforces, and move
// it to and from files and the SES account-level list. Every address goes through the store, so the
// CLI normalises and (in privacy mode) hashes exactly as the SMTP path does.
import { normalizeAddress, type SuppressionReason, type SuppressionRecord } from '../suppression/index.js';
import { type CliRuntime, EXIT_FAILED, EXIT_OK, usageError } from './runtime.js';
import { err, formatTime, out, plural, printJson, table } from './output.js';
import type { SuppressionFormat } from '../ops/index.js';
import {
  emptySummary,
  exportEntries,
  formatFromName,
  importFile,
  printImportSummary,
  printPartialImport,
} from './suppression-files.js';
import { countForSes, exportToSes, importFromSes, SES_IMPORT_SOURCE } from './suppression-ses.js';
import { confirmBulk } from './confirm.js';
import { StdoutClosedError } from './stdout.js';
import { isStdout } from './export-target.js';

/** Entries per store call while listing. */
const LIST_PAGE_ENTRIES = 1000;

function requireAddress(address: string): string {
  const normalized = normalizeAddress(address);
  if (normalized === undefined) throw usageError(`"${address}" is not an email address`);
  return normalized;
}

function describe(record: SuppressionRecord): string {
  const parts = [
    record.bounceType && `${record.bounceType}/${record.bounceSubType ?? '-'}`,
    record.diagnosticCode,
  ];
  return parts.filter(Boolean).join(' ');
}

export interface ListFlags {
  reason?: SuppressionReason;
  since?: number;
  limit: number;
  json?: boolean;
}

export async function listSuppressions(rt: CliRuntime, flags: ListFlags): Promise<number> {
  const store = rt.suppression();
  const filter = {
    ...(flags.reason ? { reason: flags.reason } : {}),
    ...(flags.since !== undefined ? { since: flags.since } : {}),
  };
  const items: SuppressionRecord[] = [];
  let cursor: string | undefined;
  let more = false;
  do {
    const limit = Math.min(LIST_PAGE_ENTRIES, flags.limit - items.length);
    const page = await store.list({ limit, ...filter, ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor;
    // A page may end early and still go on: only an entry beyond the limit proves there are more.
    if (items.length >= flags.limit && cursor) {
      more = (await store.list({ limit: 1, cursor, ...filter })).items.length > 0;
      break;
    }
  } while (cursor);
  if (flags.json) {
    printJson({ items, more });
    return EXIT_OK;
  }
  if (items.length === 0) {
    out('no suppressed addresses match');
    return EXIT_OK;
  }
  out(
    table(
      ['ADDRESS', 'REASON', 'SINCE', 'EXPIRES', 'EVENTS', 'DETAIL'],
      items.map((r) => [
        r.address,
        r.reason,
        formatTime(r.firstSeen),
        formatTime(r.expiresAt),
        String(r.count),
        describe(r),
      ]),
    ),
  );
  if (more) err(`showing the first ${items.length}; raise --limit or use \`suppression export\` for all`);
  return EXIT_OK;
}

export async function checkSuppression(rt: CliRuntime, address: string, json?: boolean): Promise<number> {
  const normalized = requireAddress(address);
  const record = await rt.suppression().get(normalized);
  if (json) printJson({ address: normalized, suppressed: record !== null, record: record ?? undefined });
  else if (!record) out(`${normalized} is not suppressed`);
  else {
    const expiry = record.expiresAt === undefined ? 'no expiry' : `expires ${formatTime(record.expiresAt)}`;
    out(
      `${normalized} is suppressed: ${record.reason} since ${formatTime(record.firstSeen)} (${expiry}, ${plural(record.count, 'event')})`,
    );
    const detail = describe(record);
    if (detail) out(`  ${detail}`);
  }
  // Exit 1 when suppressed: the check "may the gateway send to this address?" failed.
  return record ? EXIT_FAILED : EXIT_OK;
}

export async function addSuppression(
  rt: CliRuntime,
  address: string,
  flags: { reason: SuppressionReason; expires?: number },
): Promise<number> {
  const normalized = requireAddress(address);
  const now = Date.now();
  const record = await rt.suppression().suppress(normalized, {
    reason: flags.reason,
    at: now,
    ...(flags.expires !== undefined ? { expiresAt: now + flags.expires } : {}),
  });
  const expiry = record.expiresAt === undefined ? '' : `, expires ${formatTime(record.expiresAt)}`;
  out(`${record.count === 1 ? 'suppressed' : 'updated'} ${normalized} (${record.reason}${expiry})`);
  return EXIT_OK;
}

export async function removeSuppression(rt: CliRuntime, address: string): Promise<number> {
  const normalized = requireAddress(address);
  if (await rt.suppression().remove(normalized)) {
    out(`removed ${normalized}`);
    return EXIT_OK;
  }
  err(`${normalized} is not suppressed`);
  return EXIT_FAILED;
}

export interface ImportFlags {
  format?: SuppressionFormat;
  fromSes?: boolean;
  rate: number;
  json?: boolean;
}

export async function importSuppressions(
  rt: CliRuntime,
  file: string | undefined,
  flags: ImportFlags,
): Promise<number> {
  if ((file === undefined) === !flags.fromSes)
    throw usageError('give either a file (or - for stdin) or --from-ses');
  const summary = emptySummary(flags.fromSes ? SES_IMPORT_SOURCE : file === '-' ? 'stdin' : file!);
  try {
    if (flags.fromSes) await importFromSes(rt.ses(), rt.suppression(), flags.rate, summary);
    else await importFile(rt.suppression(), file!, flags.format ?? formatFromName(file!), summary);
  } catch (e) {
    // What was written stays written: say how far the import got, then (runtime.ts) the error. Not
    // when it stopped before counting anything (Redis or SES down from the start, a refused file):
    // the error alone says it all.
    if (summary.added + summary.updated + summary.invalid > 0) printPartialImport(summary, flags.json);
    throw e;
  }
  if (flags.json) printJson(summary);
  else printImportSummary(summary);
  // Valid lines are imported either way; a non-zero exit makes a script look at the bad ones.
  return summary.invalid > 0 ? EXIT_FAILED : EXIT_OK;
}

export interface ExportFlags {
  format?: SuppressionFormat;
  out?: string;
  toSes?: boolean;
  rate: number;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export async function exportSuppressions(rt: CliRuntime, flags: ExportFlags): Promise<number> {
  const hashed = rt.config.SUPPRESSION_HASH_KEY !== undefined;
  if (!flags.toSes && (flags.dryRun || flags.yes)) throw usageError('--dry-run and --yes go with --to-ses');
  if (flags.toSes) {
    if (flags.out || flags.format) throw usageError('--to-ses takes no --out or --format');
    if (hashed) {
      throw usageError(
        'privacy mode (SUPPRESSION_HASH_KEY) stores hashes, not addresses: there is nothing SES could suppress',
      );
    }
    const { pushable, expiring } = await countForSes(rt.suppression());
    const what = `put ${plural(pushable, 'entry', 'entries')} on the SES account suppression list`;
    if (flags.dryRun) {
      if (flags.json) printJson({ dryRun: true, wouldPush: pushable, expiring });
      else out(`would ${what} (${expiring} expiring entries kept local); nothing changed`);
      return EXIT_OK;
    }
    if (!(await confirmBulk(what, pushable, flags.yes))) {
      err('nothing pushed');
      return EXIT_FAILED;
    }
    const result = await exportToSes(rt.ses(), rt.suppression(), flags.rate);
    if (flags.json) printJson(result);
    else {
      err(
        `pushed ${result.pushed} to SES, ${result.failed} failed, ${result.skippedExpiring} expiring entries kept local`,
      );
      for (const line of result.errors) err(`  ${line}`);
      if (result.stoppedEarly)
        err('stopped after repeated failures; fix the cause above and run the export again');
    }
    return result.failed > 0 ? EXIT_FAILED : EXIT_OK;
  }
  const file = isStdout(flags.out) ? undefined : flags.out;
  // Without a file, stdout carries the entries themselves: a JSON summary there would corrupt them.
  if (flags.json && !file) throw usageError('--json needs --out or --to-ses (stdout carries the export)');
  if (hashed) {
    err(
      'note: privacy mode: the export holds HMAC hashes, not addresses; it cannot be imported or pushed to SES',
    );
  }
  const format = flags.format ?? (file ? formatFromName(file) : undefined) ?? 'csv';
  let written: number;
  try {
    written = await exportEntries(rt.suppression(), format, file);
  } catch (e) {
    // `export | head`: the reader took what it wanted; that is not a failure, and it needs no summary.
    if (e instanceof StdoutClosedError) return EXIT_OK;
    throw e;
  }
  if (flags.json) printJson({ written, format, out: file });
  else err(`exported ${plural(written, 'entry', 'entries')} (${format})${file ? ` to ${file}` : ''}`);
  return EXIT_OK;
}
