// Verdicts on the message bytes at the end of DATA, for faults SES would answer with a permanent
// failure later (after the client was told 250): a line over the RFC limit, which SES refuses
// outright ("The length of any single line of text in the message can't exceed 1,000 characters"),
// a field SES takes once given twice with different values, a missing From field, which SES
// requires, or one with no `@domain` address (cron's `From: root`), and a Bcc, From or X-SES-*
// field hidden after a bare CR (hidden-fields.ts; all but the first read off the header, see
// prepare.ts). Lines are looked for in the prepared bytes, the ones
// SES receives: a long Bcc line the gateway removes is no fault.
// Refusing at DATA tells the sending app at once, with a precise reply, instead of a bounce or a
// failed job hours later. Pure, so it is tested alone.

/** RFC 5322 §2.1.1: at most 998 characters per line, not counting the CRLF (SES: 1,000 with it). */
export const MAX_LINE_CHARS = 998;

const LF = 0x0a;
const CR = 0x0d;

export type MessageProblem =
  | {
      kind: 'line-too-long';
      /** 1-based, as the client sent it (undefined for a line the gateway added). */
      line: number | undefined;
      length: number;
    }
  | { kind: 'duplicate-field'; name: string }
  | { kind: 'field-after-bare-cr'; name: string }
  | { kind: 'no-from' }
  /** A From field with no `@domain` address (`From: root`, as cron writes it). */
  | { kind: 'from-without-domain' };

/** What prepare.ts and the long-line search found, as the verdicts above. */
export function messageProblem(verdicts: {
  longLine: { line: number; length: number } | undefined;
  clientLine(line: number): number | undefined;
  duplicateField: string | undefined;
  fieldAfterBareCr: string | undefined;
  hasFrom: boolean;
  fromHasDomain: boolean;
}): MessageProblem | undefined {
  const { longLine } = verdicts;
  if (longLine) {
    return { kind: 'line-too-long', line: verdicts.clientLine(longLine.line), length: longLine.length };
  }
  if (verdicts.fieldAfterBareCr !== undefined)
    return { kind: 'field-after-bare-cr', name: verdicts.fieldAfterBareCr };
  if (verdicts.duplicateField !== undefined)
    return { kind: 'duplicate-field', name: verdicts.duplicateField };
  if (!verdicts.hasFrom) return { kind: 'no-from' };
  return verdicts.fromHasDomain ? undefined : { kind: 'from-without-domain' };
}

/**
 * The first line longer than `max` characters (its line ending not counted), or undefined. Lines end
 * at LF (with or without a CR before it), as SES and most MTAs split them.
 */
export function findLongLine(
  raw: Buffer,
  max: number = MAX_LINE_CHARS,
): { line: number; length: number } | undefined {
  let start = 0;
  let line = 1;
  while (start < raw.length) {
    const newline = raw.indexOf(LF, start);
    const end = newline === -1 ? raw.length : newline;
    const length = end - start - (newline !== -1 && end > start && raw[end - 1] === CR ? 1 : 0);
    if (length > max) return { line, length };
    if (newline === -1) break;
    start = newline + 1;
    line++;
  }
  return undefined;
}
