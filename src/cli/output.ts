// Output helpers shared by the operator commands: data goes to stdout (a table for people, JSON with
// --json for scripts), progress and diagnostics to stderr, so `ses-relay … > file` captures data only.
// Every line passes through here with its control characters escaped: addresses (quoted local parts),
// SES bounce text and error messages come from outside, and an ESC sequence in them would act on the
// operator's terminal (retitle it, clear it, hide what follows). Pure except `out`/`err`.

// Matching control characters is the point of these patterns.
/* eslint-disable no-control-regex */
/** C0 controls but the line feed, DEL, and the C1 controls (U+0080–U+009F; some terminals obey them). */
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;
/** The same with the line feed: inside one value (a table cell) a line break would forge a row. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
/** DEL and C1 controls, which JSON.stringify leaves raw. */
const JSON_RAW_CONTROLS = /[\u007f-\u009f]/g;
/* eslint-enable no-control-regex */

const hexEscape = (char: string) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Text for a terminal: each control character as `\xNN`, line feeds kept (they end the lines). */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS_BUT_NEWLINE, hexEscape);
}

/** One value on one line: every control character as `\xNN`, line feeds included. */
export function escapeValue(text: string): string {
  return text.replace(CONTROLS, hexEscape);
}

export function out(text = ''): void {
  process.stdout.write(`${escapeControls(text)}\n`);
}

export function err(text: string): void {
  process.stderr.write(`${escapeControls(text)}\n`);
}

/** JSON with DEL and C1 controls written as \u escapes: the same value to a parser, inert on a terminal. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    JSON_RAW_CONTROLS,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

/** `2026-01-02 03:04:05Z`: second precision reads better in a terminal than full ISO 8601. */
export function formatTime(epochMs: number | undefined): string {
  if (epochMs === undefined || !Number.isFinite(epochMs)) return '-';
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** A duration in its two largest units: `850ms`, `42s`, `3m 12s`, `2h 5m`, `4d 3h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count}${name}`);
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith('0')).join(' ') || '0s';
}

export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}

/**
 * Left-aligned columns separated by two spaces; the last column is not padded. Cells are values:
 * their control characters are escaped here, before the widths are measured.
 */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((row) => row.map(escapeValue));
  // A loop, not Math.max(...lengths): spreading 100,000+ rows as arguments overflows the call stack.
  const widths = header.map((_, column) => {
    let width = 0;
    for (const row of all) width = Math.max(width, (row[column] ?? '').length);
    return width;
  });
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
