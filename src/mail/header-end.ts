// Finds where a message's header section ends: at its first empty line, whatever line ending that
// line or the ones before it use (CRLF, bare LF, or a mix such as LF headers and a CRLF blank
// line). Lines end at LF, as SES and most MTAs split them; a lone CR does not end a line. The
// scanner takes the message in chunks, so the DATA stream can be watched as it arrives.

/**
 * The largest header section accepted at intake, and so about the most one session buffers before
 * spooling: tens of thousands of folded addresses fit (RFC 5322 sets no limit).
 */
export const MAX_HEADER_SECTION_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export interface HeaderEndScanner {
  /**
   * Feeds the next chunk. Returns the offset (from the start of the message) of the first empty
   * line once it has been seen, else undefined. After that, feeding more changes nothing.
   */
  feed(chunk: Buffer): number | undefined;
  /** The offset of the first empty line, once seen. */
  readonly found: number | undefined;
}

export function createHeaderEndScanner(): HeaderEndScanner {
  let offset = 0;
  let lineStart = 0;
  /** Bytes of the current line seen so far, and whether the first of them is a CR. */
  let lineLength = 0;
  let startsWithCr = false;
  let found: number | undefined;
  return {
    feed(chunk: Buffer) {
      if (found !== undefined) return found;
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(LF, start);
        const end = newline === -1 ? chunk.length : newline;
        if (lineLength === 0 && end > start) startsWithCr = chunk[start] === CR;
        lineLength += end - start;
        if (newline === -1) break;
        if (lineLength === 0 || (lineLength === 1 && startsWithCr)) {
          found = lineStart;
          return found;
        }
        lineStart = offset + newline + 1;
        lineLength = 0;
        start = newline + 1;
      }
      offset += chunk.length;
      return undefined;
    },
    get found() {
      return found;
    },
  };
}

/** The offset of a message's first empty line (the end of its header section), or -1. */
export function findHeaderEnd(raw: Buffer): number {
  return createHeaderEndScanner().feed(raw) ?? -1;
}
