// Progress for long imports and exports, on stderr so it never mixes with data on stdout. On a
// terminal: one bar redrawn in place. Otherwise (CI logs, `2> file`): a plain line now and then, since
// carriage-return redraws turn into thousands of lines in a log file.

/** Redraw at most this often: faster is invisible and costs terminal writes on a million-line import. */
const BAR_REDRAW_MS = 100;
/** One plain line per this interval when stderr is not a terminal. */
const LINE_INTERVAL_MS = 5000;
const BAR_WIDTH = 30;

export interface Progress {
  /** `done` units of `total` (when known); `detail` is shown after the counts. */
  update(done: number, total?: number, detail?: string): void;
  /** Clears the bar (the caller prints its own summary). */
  finish(): void;
}

export interface ProgressOptions {
  label: string;
  unit: string;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

export function formatProgress(label: string, unit: string, done: number, total?: number, detail?: string) {
  const counts = `${done.toLocaleString('en-US')}${total === undefined ? '' : `/${total.toLocaleString('en-US')}`} ${unit}`;
  const suffix = detail ? ` ${detail}` : '';
  if (total === undefined || total <= 0) return `${label}: ${counts}${suffix}`;
  const share = Math.min(1, done / total);
  const filled = Math.round(share * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  return `${label} ${bar} ${String(Math.floor(share * 100)).padStart(3)}% ${counts}${suffix}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const tty = stream.isTTY === true;
  const interval = tty ? BAR_REDRAW_MS : LINE_INTERVAL_MS;
  let last = now();
  let drawn = false;
  return {
    update(done, total, detail) {
      const at = now();
      if (at - last < interval) return;
      last = at;
      const text = formatProgress(options.label, options.unit, done, total, detail);
      if (tty) {
        stream.write(`\r${text}\x1b[K`);
        drawn = true;
      } else {
        stream.write(`${text}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
