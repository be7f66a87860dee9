// File-system failures of the file commands as one line naming the file the operator gave
// (`cannot read list.csv: no such file or directory`), exit 1 like any other failed operation.
import { errorMessage } from '../shared/errors.js';
import { CliError } from './runtime.js';

/** A failure the file system reported (it carries an errno code such as ENOENT or EACCES). */
export function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** `ENOENT: no such file or directory, open 'x'` → `no such file or directory`. */
function reason(err: NodeJS.ErrnoException): string {
  const message = errorMessage(err);
  return /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
}

/** The error to throw for `err`: a CliError naming `path` for file-system failures, else `err` itself. */
export function fileError(action: 'read' | 'write', path: string, err: unknown): unknown {
  return isFileSystemError(err) ? new CliError(`cannot ${action} ${path}: ${reason(err)}`) : err;
}
