// Confirmation before an operation on many items at once (retrying every failed message, pushing the
// list to SES's): the admin page asks first with the count, and so does the CLI. On a terminal it
// asks; in a script, where nobody can answer, it wants --yes, so a forgotten --limit fails loudly
// instead of resending thousands of messages.
import readline from 'node:readline';
import { usageError } from './runtime.js';

/** Up to this many items go without asking: a handful, as a test or a small fix does. */
export const CONFIRM_ABOVE_ITEMS = 10;

export interface ConfirmIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

/** Asks `question [y/N]`; Ctrl-C, Ctrl-D and anything but y/yes mean no. */
function ask(io: ConfirmIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: io.stdin, output: io.stderr, terminal: true });
    let answered = false;
    const finish = (yes: boolean) => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    // Ctrl-C and Ctrl-D end the prompt's line before the answer is printed below it.
    const decline = () => {
      if (!answered) io.stderr.write('\n');
      finish(false);
    };
    rl.on('SIGINT', decline);
    rl.on('close', decline);
    rl.question(`${question} [y/N] `, (answer) => finish(/^\s*y(es)?\s*$/i.test(answer)));
  });
}

/**
 * Whether to go ahead with `action` (e.g. `retry 250 failed messages`) on `count` items: yes for a
 * handful or with --yes; otherwise the answer on a terminal, and a usage error (exit 2) without one.
 */
export async function confirmBulk(
  action: string,
  count: number,
  yes: boolean | undefined,
  io: ConfirmIo = process,
): Promise<boolean> {
  if (yes || count <= CONFIRM_ABOVE_ITEMS) return true;
  if (io.stdin.isTTY !== true) {
    throw usageError(
      `this would ${action}: add --yes to confirm, or --dry-run to see the count and change nothing`,
    );
  }
  return ask(io, `${action.charAt(0).toUpperCase()}${action.slice(1)}?`);
}
