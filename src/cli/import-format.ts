// The format of an import nobody named (stdin, or a file name without a known extension): decided by
// its first non-blank line with detectFormat, the rule the admin API applies to a request body.
import { detectFormat, type SuppressionFormat } from '../ops/index.js';

export interface SniffedLines {
  format: SuppressionFormat;
  /** Every line, the ones read to decide included. */
  lines: AsyncIterable<string>;
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
    if (next.done === true) return { format: 'csv', lines: replay(head, undefined) };
    head.push(next.value);
    if (next.value.trim() !== '') return { format: detectFormat(next.value), lines: replay(head, iterator) };
  }
}
