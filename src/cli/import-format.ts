// What an import is, decided before anything is written: its format when nobody named it (by its
// first non-blank line, with detectFormat, the rule the admin API applies to a request body), and
// whether it can be read at all. A UTF-16 file (Excel's "Unicode text") or a JSON array would
// otherwise fail line by line, each line "invalid", and leave the operator to guess why.
import { detectFormat, type SuppressionFormat } from '../ops/index.js';

export interface SniffedLines {
  format: SuppressionFormat;
  /** Every line, the ones read to decide included. */
  lines: AsyncIterable<string>;
  /** The first non-blank line; undefined for an empty input. */
  first: string | undefined;
}

async function* replay(head: string[], rest: AsyncIterator<string> | undefined): AsyncGenerator<string> {
  yield* head;
  if (!rest) return;
  try {
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

/** Reads up to the first non-blank line; CSV when there is none (an empty input imports nothing). */
export async function sniffFormat(lines: AsyncIterable<string>): Promise<SniffedLines> {
  const iterator = lines[Symbol.asyncIterator]();
  const head: string[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return { format: 'csv', lines: replay(head, undefined), first: undefined };
    head.push(next.value);
    if (next.value.trim() !== '') {
      return { format: detectFormat(next.value), lines: replay(head, iterator), first: next.value };
    }
  }
}

/**
 * Why the whole input cannot be imported, judged by its first non-blank line (as read in UTF-8);
 * undefined when it can. UTF-16's byte-order mark reads as two U+FFFD, and its ASCII as NUL-spaced.
 */
export function unreadableInput(firstLine: string | undefined): string | undefined {
  if (firstLine === undefined) return undefined;
  if (firstLine.startsWith('\uFFFD\uFFFD') || firstLine.includes('\u0000')) {
    return 'is UTF-16 text (Excel "Unicode text"), not UTF-8: save it as "CSV UTF-8" and import that';
  }
  if (
    firstLine
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('[')
  ) {
    return "is a JSON array; import reads JSON lines, one object per line (jq -c '.[]' turns one into the other)";
  }
  return undefined;
}
