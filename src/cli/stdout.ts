// Standard output when its reader may leave early (`ses-relay suppression export | head -1`): Node
// reports the closed pipe as an EPIPE 'error' event, which would crash the command with a stack trace.
// Here a reader that left ends the output quietly; any other write failure is one line and exit 1.
// Standard error may share that pipe (`… 2>&1 | head -1`): its failures are ignored, since there is
// nowhere left to report them, and the command's exit code still tells how it ended.
import { errorMessage } from '../shared/errors.js';
import { err } from './output.js';

/** Exit code for a stdout that cannot be written (see runtime.ts for the others). */
const EXIT_STDOUT_FAILED = 1;

/** Rejects a write once stdout's reader has gone: the command stops producing output. */
export class StdoutClosedError extends Error {
  constructor() {
    super('stdout was closed by its reader');
    this.name = 'StdoutClosedError';
  }
}

let guarded = false;
let readerGone = false;

function isReaderGone(error: NodeJS.ErrnoException): boolean {
  // EPIPE for the write that met the closed pipe; ERR_STREAM_DESTROYED for writes queued behind it.
  return error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
}

/** Installs, once per process, the listeners that keep a closed stdout or stderr from crashing the command. */
export function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  // A note, a progress line or the final error meeting a closed stderr would otherwise crash the
  // command with exit 1 (the stack trace lost on the same closed pipe), whatever it had done.
  process.stderr.on('error', () => undefined);
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (isReaderGone(error)) {
      readerGone = true;
      return;
    }
    err(`ses-relay: cannot write to stdout: ${errorMessage(error)}`);
    process.exit(EXIT_STDOUT_FAILED);
  });
}

/**
 * Writes to stdout and resolves once the text is handed to the system, so a long export waits for a
 * slow reader instead of buffering; rejects with StdoutClosedError when the reader has gone.
 */
export function writeStdout(text: string): Promise<void> {
  guardStdout();
  if (readerGone) return Promise.reject(new StdoutClosedError());
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => {
      if (!error) resolve();
      else if (isReaderGone(error)) {
        readerGone = true;
        reject(new StdoutClosedError());
      } else reject(error);
    });
  });
}
