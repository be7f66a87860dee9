// Reads and edits the header section of a raw RFC 5322 message without touching the body bytes.
// Works on latin1 strings so that 8-bit header bytes pass through unchanged.
import { findHeaderEnd, MAX_HEADER_SECTION_BYTES } from './header-end.js';

export interface HeaderField {
  /** Header name as written. */
  name: string;
  /** Lower-cased name for comparisons. */
  key: string;
  /** Unfolded value with surrounding white space removed. */
  value: string;
  /** The field's exact text including its line ending(s). */
  text: string;
}

export interface SplitMessage {
  fields: HeaderField[];
  /** Line ending used by the header section ("\r\n" or "\n"). */
  eol: string;
  /**
   * Everything after the header section: the blank line and the body (may be empty). For a message
   * without a blank line, the body alone: from its first line that is not a header field.
   */
  rest: Buffer;
  /** Whether an empty line ends the header section (joinMessage adds one when not). */
  separated: boolean;
}

/**
 * A header field's first line (RFC 5322 §3.6.8 field-name, then the colon; white space before the
 * colon is the obsolete syntax of §4.5), or a folded continuation line.
 */
const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;
const CONTINUATION_LINE = /^[ \t]/;

const CR = 0x0d;

function lineEnding(raw: Buffer, newline: number): string {
  return newline > 0 && raw[newline - 1] === CR ? '\r\n' : '\n';
}

/**
 * Groups header lines into fields. Each field's lines are joined once at the end: growing a string
 * per continuation line (and trimming it) would copy a long folded field once per line, which for
 * a header section of thousands of folded addresses takes seconds.
 */
function parseFields(lines: string[]): HeaderField[] {
  const groups: string[][] = [];
  for (const line of lines) {
    const last = groups[groups.length - 1];
    if (CONTINUATION_LINE.test(line) && last && FIELD_LINE.test(last[0]!)) last.push(line);
    else groups.push([line]);
  }
  return groups.map((group) => {
    const first = group[0]!;
    if (!FIELD_LINE.test(first)) {
      // Not a header line: keep its bytes as an unnamed field so nothing is lost.
      return { name: '', key: '', value: '', text: first };
    }
    const colon = first.indexOf(':');
    const name = first.slice(0, colon).trim();
    const value = [first.slice(colon + 1), ...group.slice(1)]
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .join(' ');
    return { name, key: name.toLowerCase(), value, text: group.join('') };
  });
}

/** The message's leading run of header field lines: how many, and how many characters they take. */
function leadingFieldLines(lines: string[]): { count: number; chars: number } {
  let chars = 0;
  let count = 0;
  for (const line of lines) {
    const header = FIELD_LINE.test(line) || (count > 0 && CONTINUATION_LINE.test(line));
    if (!header) break;
    chars += line.length;
    count++;
  }
  return { count, chars };
}

/**
 * A message without an empty line (a printer's or cron job's header-only message, or headers run
 * straight into text): the header section is its leading run of header fields, and the first other
 * line starts the body, as RFC 5322 §2.1 reads it and Postfix's cleanup treats it.
 */
function splitUnseparated(raw: Buffer): SplitMessage {
  const lines = raw.toString('latin1').split(/(?<=\n)/);
  const leading = leadingFieldLines(lines);
  const newline = raw.indexOf(0x0a);
  return {
    fields: parseFields(lines.slice(0, leading.count)),
    eol: newline === -1 ? '\r\n' : lineEnding(raw, newline),
    rest: raw.subarray(leading.chars),
    separated: false,
  };
}

/**
 * Where the leading run of header fields of `prefix` (the start of a message with no empty line in
 * it) ends, when the line after the run is complete in `prefix`: from there on the message is body
 * whatever follows. Undefined when every line of `prefix` may still belong to the run.
 */
export function leadingFieldsEnd(prefix: Buffer): number | undefined {
  const lines = prefix.toString('latin1').split(/(?<=\n)/);
  const leading = leadingFieldLines(lines);
  const next = lines[leading.count];
  return next !== undefined && next.endsWith('\n') ? leading.chars : undefined;
}

/**
 * Splits a message at its header section's end: its first empty line, or, for a message with none
 * within MAX_HEADER_SECTION_BYTES, the end of its leading run of header fields. A header section is
 * never longer than that (intake refuses one that is), so an empty line further down, after lines
 * that are not header fields, is in the body of a message that had no blank line: a shell script's
 * Subject line and a long report after it.
 */
export function splitMessage(raw: Buffer): SplitMessage {
  const end = findHeaderEnd(raw);
  if (end === -1) return splitUnseparated(raw);
  if (end > MAX_HEADER_SECTION_BYTES) {
    const unseparated = splitUnseparated(raw);
    // Unless header fields run all the way to the empty line: one header section, too long.
    if (unseparated.rest.length > raw.length - end) return unseparated;
  }
  const headerText = raw.toString('latin1', 0, end);
  return {
    fields: parseFields(headerText === '' ? [] : headerText.split(/(?<=\n)/)),
    // The header lines' own ending (the blank line's when there are none).
    eol: end === 0 ? lineEnding(raw, raw.indexOf(0x0a)) : lineEnding(raw, end - 1),
    rest: raw.subarray(end),
    separated: true,
  };
}

/** The message bytes; a message that had no blank line gets one after its header section. */
export function joinMessage(message: SplitMessage): Buffer {
  let head = message.fields.map((field) => field.text).join('');
  if (!message.separated) {
    if (head !== '' && !head.endsWith('\n')) head += message.eol;
    head += message.eol;
  }
  return Buffer.concat([Buffer.from(head, 'latin1'), message.rest]);
}

/** Lines a field's text takes (the last one may lack its line ending). */
export function lineCount(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return text === '' || text.endsWith('\n') ? count : count + 1;
}

export function headerValue(message: SplitMessage, key: string): string | undefined {
  return message.fields.find((field) => field.key === key)?.value;
}

export function newField(name: string, value: string, eol: string): HeaderField {
  return { name, key: name.toLowerCase(), value, text: `${name}: ${value}${eol}` };
}
