// Suppression lists as text: parsing an import (CSV or JSON lines) line by line and formatting an export,
// shared by the admin API and the `ses-relay suppression import|export` command. Pure: no I/O here.
//
// CSV: `address,reason` with an optional header; with a header the columns are found by name
// (address|email|Email Address, reason, since, expires_at), so an export imports back unchanged. JSON
// lines: one object per line with `address` and optional `reason`, `firstSeen`/`since`, `expiresAt`
// and the SES detail fields an export carries (in privacy mode, HMACs in place of addresses). Dates
// are ISO 8601 or epoch milliseconds. Lines starting with `#` are comments. Each bad line is reported
// by number; the rest still import.
import { normalizeAddress } from '../suppression/normalize.js';
import { misreadEpochUnit, parseTimestamp } from './timestamps.js';
import { isHashedAddress } from '../suppression/privacy.js';
import type {
  ImportRecord,
  SuppressionDetails,
  SuppressionReason,
  SuppressionRecord,
} from '../suppression/types.js';

export { parseIsoDate, parseTimestamp } from './timestamps.js';

export type SuppressionFormat = 'csv' | 'jsonl';

export const SUPPRESSION_FORMATS: readonly SuppressionFormat[] = ['csv', 'jsonl'];
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = [
  'bounce',
  'complaint',
  'manual',
  'imported',
];
/** What an import line without a reason becomes: it came from elsewhere, no event of ours. */
export const DEFAULT_IMPORT_REASON: SuppressionReason = 'imported';

export const CSV_HEADER = 'address,reason,since,expires_at';
/** Header names accepted for each column, lower-case (SES's own export says "email"). */
const CSV_COLUMNS = {
  address: ['address', 'email', 'email_address', 'emailaddress', 'e_mail', 'e_mail_address'],
  reason: ['reason'],
  since: ['since', 'first_seen', 'firstseen'],
  expiresAt: ['expires_at', 'expiresat', 'expires'],
} as const;
type CsvColumn = keyof typeof CSV_COLUMNS;

/** Optional string details a JSON-lines record may carry through an export and back. */
const DETAIL_FIELDS = [
  'bounceType',
  'bounceSubType',
  'diagnosticCode',
  'sesMessageId',
  'feedbackId',
  'complaintFeedbackType',
] as const;

export type ParsedLine = { line: number; record: ImportRecord } | { line: number; error: string };

export interface ImportLineParser {
  /** Parses the next physical line; undefined for a blank line or the CSV header. */
  next(text: string): ParsedLine | undefined;
}

export function parseReason(value: string | undefined): SuppressionReason | undefined {
  const text = (value ?? '').trim().toLowerCase();
  if (text === '') return DEFAULT_IMPORT_REASON;
  return SUPPRESSION_REASONS.find((reason) => reason === text);
}

/** The format of a body when nobody said: JSON lines start with `{`. */
export function detectFormat(text: string): SuppressionFormat {
  const first = /\S/.exec(text.replace(/^\uFEFF/, ''));
  return first?.[0] === '{' ? 'jsonl' : 'csv';
}

/** Splits one CSV line (RFC 4180 quoting; a line break inside quotes is not supported). */
export function splitCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) return undefined;
        value += line.slice(i, quote);
        i = quote + 1;
        if (line[i] !== '"') break;
        value += '"';
        i++;
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') return undefined;
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      fields.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // past the comma
  }
}

/**
 * A comment line (`# exported 2026-01-31`), skipped like a blank one. An address may begin with `#`
 * in theory; lists of them in practice hold notes there, never such addresses.
 */
function isComment(text: string): boolean {
  return text.trimStart().startsWith('#');
}

function headerColumns(fields: string[]): Partial<Record<CsvColumn, number>> | undefined {
  // "Email Address" and "E-mail" as spreadsheets write them: email_address, e_mail.
  const names = fields.map((field) =>
    field
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
  );
  const columns: Partial<Record<CsvColumn, number>> = {};
  for (const [column, aliases] of Object.entries(CSV_COLUMNS) as [CsvColumn, readonly string[]][]) {
    const index = names.findIndex((name) => aliases.includes(name));
    if (index !== -1) columns[column] = index;
  }
  return columns.address === undefined ? undefined : columns;
}

interface RawRecord {
  address: unknown;
  reason: unknown;
  since: unknown;
  expiresAt: unknown;
}

/**
 * `since` is clamped to `now`: a date in the future would make every real bounce or complaint after
 * the import look older than the entry, and the store keeps the newer one, so the entry would freeze.
 * An `expiresAt` already past is refused on its line (an old export imported back): the entry would
 * suppress nobody, and would end a live manual entry of the same address.
 */
function parseDates(raw: RawRecord, details: SuppressionDetails, now: number): string | undefined {
  for (const [name, value] of [
    ['since', raw.since],
    ['expiresAt', raw.expiresAt],
  ] as const) {
    if (value === undefined || value === null || value === '') continue;
    const given = typeof value === 'string' || typeof value === 'number' ? value : undefined;
    const ms = given === undefined ? undefined : parseTimestamp(given);
    if (given === undefined || ms === undefined)
      return `${name} is not an ISO 8601 date or epoch milliseconds`;
    const unit = misreadEpochUnit(given, ms);
    if (unit)
      return `${name} ${String(given).trim()} looks like epoch ${unit}; give epoch milliseconds or an ISO 8601 date`;
    if (name === 'since') details.at = Math.min(ms, now);
    else if (ms <= now)
      return `expiresAt ${String(given).trim()} is past: an expired entry suppresses nobody`;
    else details.expiresAt = ms;
  }
  return undefined;
}

function buildRecord(raw: RawRecord, now: number): ImportRecord | string {
  const { address: rawAddress, reason: rawReason } = raw;
  if (typeof rawAddress !== 'string') return 'address is missing';
  // A privacy-mode export holds HMACs; the store takes them back as they are (and refuses them
  // when it keeps plain addresses).
  const address =
    normalizeAddress(rawAddress) ?? (isHashedAddress(rawAddress.trim()) ? rawAddress.trim() : undefined);
  if (address === undefined) return 'address is not an email address';
  if (rawReason !== undefined && rawReason !== null && typeof rawReason !== 'string')
    return 'reason is not a string';
  const reason = parseReason(rawReason ?? undefined);
  if (reason === undefined) return `reason must be one of ${SUPPRESSION_REASONS.join(', ')}`;
  const details: SuppressionDetails = { reason };
  const problem = parseDates(raw, details, now);
  return problem ?? { address, details };
}

function parseJsonLine(text: string, now: number): ImportRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const object = value as Record<string, unknown>;
  const built = buildRecord(
    {
      address: object.address,
      reason: object.reason,
      since: object.firstSeen ?? object.since,
      expiresAt: object.expiresAt,
    },
    now,
  );
  if (typeof built === 'string') return built;
  for (const field of DETAIL_FIELDS) {
    const detail = object[field];
    if (typeof detail === 'string' && detail !== '') built.details[field] = detail;
  }
  return built;
}

/**
 * A parser fed one physical line at a time, so a large file never has to be held whole. Line numbers
 * count from 1 and include blank lines and the header, as an editor shows them.
 */
export function createImportLineParser(
  format: SuppressionFormat,
  now: () => number = Date.now,
): ImportLineParser {
  let line = 0;
  let columns: Partial<Record<CsvColumn, number>> | undefined;
  let sawContent = false;
  return {
    next(raw) {
      line++;
      const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
      if (text.trim() === '' || isComment(text)) return undefined;
      const first = !sawContent;
      sawContent = true;
      if (format === 'jsonl') {
        const built = parseJsonLine(text, now());
        return typeof built === 'string' ? { line, error: built } : { line, record: built };
      }
      const fields = splitCsvLine(text);
      if (fields === undefined) return { line, error: 'unbalanced quotes' };
      if (first) {
        columns = headerColumns(fields);
        if (columns) return undefined;
      }
      const at = (column: CsvColumn, fallback?: number) => {
        const index = columns ? columns[column] : fallback;
        return index === undefined ? undefined : fields[index];
      };
      const built = buildRecord(
        {
          address: at('address', 0),
          reason: at('reason', 1),
          since: at('since'),
          expiresAt: at('expiresAt'),
        },
        now(),
      );
      return typeof built === 'string' ? { line, error: built } : { line, record: built };
    },
  };
}

/** Quotes a CSV field when it needs it (addresses with a quoted local part may hold commas). */
function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsvRecord(record: SuppressionRecord): string {
  const expires = record.expiresAt === undefined ? '' : new Date(record.expiresAt).toISOString();
  return [csvField(record.address), record.reason, new Date(record.firstSeen).toISOString(), expires].join(
    ',',
  );
}

export function formatJsonLine(record: SuppressionRecord): string {
  return JSON.stringify(record);
}

export function formatRecord(format: SuppressionFormat, record: SuppressionRecord): string {
  return format === 'csv' ? formatCsvRecord(record) : formatJsonLine(record);
}

export const EXPORT_CONTENT_TYPES: Record<SuppressionFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
};
