// Where `suppression export` writes: stdout (no --out, or `--out -`), or a file. A missing or regular
// file is written through a temporary file renamed over it at the end, so an export that fails
// half-way never leaves a file that looks complete; anything else the path names (a symlink, a FIFO,
// a device) is written in place, since replacing it would break what the operator set up there.
import fs from 'node:fs';
import os from 'node:os';
import { fileError } from './file-errors.js';
import { escapeControls } from './output.js';
import { writeStdout } from './stdout.js';

/** A new export file is readable by its owner only: the list is personal data (addresses). */
export const NEW_EXPORT_FILE_MODE = 0o600;
/** Permission bits of a mode (what chmod takes), without the file type. */
const PERMISSION_BITS = 0o7777;
/** Signals that end an export early; the temporary file is removed before the process exits. */
const INTERRUPTS = ['SIGINT', 'SIGTERM'] as const;

export interface ExportTarget {
  /** The file written, for the summary; undefined for stdout. */
  readonly path: string | undefined;
  write(text: string): Promise<void>;
  /** Closes the file and, through a temporary file, puts it in place. */
  commit(): Promise<void>;
  /** Closes the file and removes the temporary file; the target is left as it was. */
  abort(): Promise<void>;
}

/** Whether `--out` names stdout. */
export function isStdout(outPath: string | undefined): boolean {
  return outPath === undefined || outPath === '-';
}

/** Removes `tmpPath` and exits 128 + the signal's number (130 for Ctrl-C) on SIGINT or SIGTERM. */
function removeOnInterrupt(tmpPath: string): () => void {
  const handlers = INTERRUPTS.map((signal) => {
    const handler = () => {
      fs.rmSync(tmpPath, { force: true });
      process.exit(128 + os.constants.signals[signal]);
    };
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}

async function openFile(path: string, flags: string, shownPath: string): Promise<fs.promises.FileHandle> {
  return fs.promises.open(path, flags, NEW_EXPORT_FILE_MODE).catch((e: unknown) => {
    throw fileError('write', shownPath, e);
  });
}

function writer(handle: fs.promises.FileHandle, shownPath: string) {
  return async (text: string) => {
    await handle.write(text).catch((e: unknown) => {
      throw fileError('write', shownPath, e);
    });
  };
}

/** Through `<path>.<pid>.tmp`, created with `mode` (the replaced file's, or owner-only for a new one). */
async function replacingTarget(path: string, mode: number): Promise<ExportTarget> {
  const tmpPath = `${path}.${process.pid}.tmp`;
  // Before the file exists: a Ctrl-C at any moment after must find the handler in place.
  const forgetInterrupts = removeOnInterrupt(tmpPath);
  const handle = await openFile(tmpPath, 'wx', path).catch((e: unknown) => {
    forgetInterrupts();
    throw e;
  });
  const abort = async () => {
    forgetInterrupts();
    await handle.close().catch(() => undefined);
    await fs.promises.rm(tmpPath, { force: true });
  };
  try {
    // Set, not masked by the umask: an existing 0600 list must not come back 0644.
    await handle.chmod(mode);
  } catch (e) {
    await abort();
    throw fileError('write', path, e);
  }
  return {
    path,
    write: writer(handle, path),
    async commit() {
      await handle.close();
      await fs.promises.rename(tmpPath, path).catch((e: unknown) => {
        throw fileError('write', path, e);
      });
      forgetInterrupts();
    },
    abort,
  };
}

/** Straight into what the path names (a FIFO blocks here until it has a reader). */
async function inPlaceTarget(path: string): Promise<ExportTarget> {
  const handle = await openFile(path, 'w', path);
  const close = () => handle.close().catch(() => undefined);
  return { path, write: writer(handle, path), commit: () => handle.close(), abort: close };
}

/**
 * Stdout: on a terminal, a person reads the entries, and control characters in them (a quoted local
 * part, SES bounce text) are escaped as in all output; into a pipe or file they go as stored.
 */
function stdoutTarget(): ExportTarget {
  const forTerminal = process.stdout.isTTY === true;
  return {
    path: undefined,
    write: (text) => writeStdout(forTerminal ? escapeControls(text) : text),
    async commit() {},
    async abort() {},
  };
}

export async function openExportTarget(outPath: string | undefined): Promise<ExportTarget> {
  if (outPath === undefined || isStdout(outPath)) return stdoutTarget();
  let existing: fs.Stats | undefined;
  try {
    existing = await fs.promises.lstat(outPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError('write', outPath, e);
  }
  if (existing === undefined) return replacingTarget(outPath, NEW_EXPORT_FILE_MODE);
  if (existing.isFile()) return replacingTarget(outPath, existing.mode & PERMISSION_BITS);
  return inPlaceTarget(outPath);
}
