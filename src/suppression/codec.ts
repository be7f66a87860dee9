// The stored forms of a suppression entry, pure so they can be table-tested. Kept in step with the Lua
// scripts in scripts.ts, which read the same strings.
//
// summary: `<reason code><firstSeen base 36>[,<expiresAt base 36>]`, e.g. `bmh4kq1s0` (9 bytes).
//   Base-36 epoch ms is 8 characters against 13 decimal ones; at a million entries that is 5 MB.
// detail:  `<count>,<lastSeen base 36>,<JSON of the event details with short keys, or empty>`.
//   Absent while count is 1 and there are no details: most imported entries cost only the summary.
import type { SuppressionDetails, SuppressionHit, SuppressionReason, SuppressionRecord } from './types.js';

const REASON_CODES: Record<SuppressionReason, string> = {
  bounce: 'b',
  complaint: 'c',
  manual: 'm',
  imported: 'i',
};
const REASONS_BY_CODE = new Map(Object.entries(REASON_CODES).map(([reason, code]) => [code, reason]));

/** Short JSON keys: the detail record is stored once per entry, the names once per program. */
const DETAIL_KEYS = {
  bounceType: 'bt',
  bounceSubType: 'bs',
  diagnosticCode: 'dc',
  sesMessageId: 'mid',
  feedbackId: 'fid',
  complaintFeedbackType: 'cft',
} as const;
type DetailField = keyof typeof DETAIL_KEYS;
const DETAIL_FIELDS = Object.keys(DETAIL_KEYS) as DetailField[];

const SUMMARY = /^([a-z])([0-9a-z]+)(?:,([0-9a-z]+))?$/;
const DETAIL = /^(\d+),([0-9a-z]+),(.*)$/s;

export function reasonCode(reason: SuppressionReason): string {
  const code = REASON_CODES[reason] as string | undefined;
  if (code === undefined) throw new TypeError(`unknown suppression reason: ${String(reason)}`);
  return code;
}

export function isSuppressionReason(value: unknown): value is SuppressionReason {
  return typeof value === 'string' && Object.hasOwn(REASON_CODES, value);
}

export function toBase36(epochMs: number): string {
  return epochMs.toString(36);
}

export function encodeSummary(reason: SuppressionReason, firstSeen: number, expiresAt?: number): string {
  const head = `${reasonCode(reason)}${toBase36(firstSeen)}`;
  return expiresAt === undefined ? head : `${head},${toBase36(expiresAt)}`;
}

export function decodeSummary(summary: string): SuppressionHit {
  const match = SUMMARY.exec(summary);
  const reason = match && REASONS_BY_CODE.get(match[1]!);
  if (!match || !isSuppressionReason(reason)) throw new Error(`malformed suppression summary: ${summary}`);
  const hit: SuppressionHit = { reason, since: parseInt(match[2]!, 36) };
  if (match[3] !== undefined) hit.expiresAt = parseInt(match[3], 36);
  return hit;
}

/** Live when it has no expiry or expires after `now`: an expired entry counts as not suppressed. */
export function isLive(hit: SuppressionHit, now: number): boolean {
  return hit.expiresAt === undefined || hit.expiresAt > now;
}

/** The event details as stored in the detail record; '' when there are none. */
export function encodeDetailJson(details: SuppressionDetails, redact: (text: string) => string): string {
  const short: Record<string, string> = {};
  for (const field of DETAIL_FIELDS) {
    const value = details[field];
    if (value !== undefined && value !== '') short[DETAIL_KEYS[field]] = redact(value);
  }
  return Object.keys(short).length === 0 ? '' : JSON.stringify(short);
}

interface DecodedDetail {
  count: number;
  lastSeen: number;
  details: Partial<Pick<SuppressionDetails, DetailField>>;
}

export function decodeDetail(detail: string): DecodedDetail {
  const match = DETAIL.exec(detail);
  if (!match) throw new Error(`malformed suppression detail: ${detail.slice(0, 40)}`);
  const details: DecodedDetail['details'] = {};
  if (match[3] !== '') {
    const short = JSON.parse(match[3]!) as Record<string, unknown>;
    for (const field of DETAIL_FIELDS) {
      const value = short[DETAIL_KEYS[field]];
      if (typeof value === 'string') details[field] = value;
    }
  }
  return { count: Number(match[1]), lastSeen: parseInt(match[2]!, 36), details };
}

/** Builds the public record from the stored summary and (optional) detail of one entry. */
export function decodeRecord(address: string, summary: string, detail: string | null): SuppressionRecord {
  const hit = decodeSummary(summary);
  const extra = detail === null ? undefined : decodeDetail(detail);
  const record: SuppressionRecord = {
    address,
    reason: hit.reason,
    ...extra?.details,
    firstSeen: hit.since,
    lastSeen: extra?.lastSeen ?? hit.since,
    count: extra?.count ?? 1,
  };
  if (hit.expiresAt !== undefined) record.expiresAt = hit.expiresAt;
  return record;
}
