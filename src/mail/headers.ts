// Reads and edits the header section of a raw RFC 5322 message without touching the body bytes.
// Works on latin1 strings so that 8-bit header bytes pass through unchanged.

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
  /** Everything after the header section: the blank line and the body (may be empty). */
  rest: Buffer;
}

/** Offset of the blank line that ends the header section, and its length; -1 when there is none. */
function findHeaderEnd(raw: Buffer): { at: number; eol: string } {
  const crlf = raw.indexOf('\r\n\r\n', 0, 'latin1');
  // A bare-LF blank line counts only before the CRLF one: searching no further keeps a CRLF
  // message's body from being scanned a second time.
  const lf = (crlf === -1 ? raw : raw.subarray(0, crlf + 2)).indexOf('\n\n', 0, 'latin1');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf + 2, eol: '\r\n' };
  if (lf !== -1) return { at: lf + 1, eol: '\n' };
  return { at: -1, eol: '\r\n' };
}

export function splitMessage(raw: Buffer): SplitMessage {
  const end = findHeaderEnd(raw);
  // A message without a blank line is all headers (or garbage); keep every byte either way.
  const headerText = raw.toString('latin1', 0, end.at === -1 ? raw.length : end.at);
  const rest = end.at === -1 ? Buffer.alloc(0) : raw.subarray(end.at);
  const fields: HeaderField[] = [];
  const lines = headerText.split(/(?<=\n)/);
  for (const line of lines) {
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.text += line;
      last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      // Not a header line: keep its bytes as an unnamed field so nothing is lost.
      fields.push({ name: '', key: '', value: '', text: line });
      continue;
    }
    const name = line.slice(0, colon).trim();
    fields.push({ name, key: name.toLowerCase(), value: line.slice(colon + 1).trim(), text: line });
  }
  return { fields, eol: end.eol, rest };
}

export function joinMessage(message: SplitMessage): Buffer {
  const head = Buffer.from(message.fields.map((field) => field.text).join(''), 'latin1');
  return Buffer.concat([head, message.rest]);
}

export function headerValue(message: SplitMessage, key: string): string | undefined {
  return message.fields.find((field) => field.key === key)?.value;
}

export function newField(name: string, value: string, eol: string): HeaderField {
  return { name, key: name.toLowerCase(), value, text: `${name}: ${value}${eol}` };
}
