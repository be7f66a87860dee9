// Notices that configuration files (certificates, the users file) may have changed, so they can be
// reloaded without a restart. Belongs in shared/ once both users of it are wired; kept here for now.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger.js';

/** Editors and certbot write several files, or write then rename, in quick succession: wait for quiet. */
export const DEFAULT_DEBOUNCE_MS = 200;

export interface FileWatch {
  close(): void;
}

/**
 * Watches the directories of `files`, not the files: editors replace a file by renaming a new one
 * over it, and Kubernetes swaps a `..data` symlink, both of which a watch on the old inode misses.
 * Any event in those directories calls `onChange` (debounced); the caller compares contents, so an
 * unrelated file in the same directory costs one read and nothing else.
 */
export function watchFiles(
  files: readonly string[],
  onChange: () => void,
  options: { logger: Logger; debounceMs?: number },
): FileWatch {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const fire = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };

  const watchers: fs.FSWatcher[] = [];
  for (const dir of new Set(files.map((file) => path.dirname(path.resolve(file))))) {
    try {
      const watcher = fs.watch(dir, { persistent: false }, fire);
      // A deleted directory or an inotify limit ends the watch; an explicit reload still works.
      watcher.on('error', (err) => options.logger.warn({ dir, err: err.message }, 'config.watch_failed'));
      watchers.push(watcher);
    } catch (err) {
      options.logger.warn({ dir, err: (err as Error).message }, 'config.watch_failed');
    }
  }

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** Runs reloads one after another: a change that arrives during a reload is loaded after it. */
export function serialize<A extends unknown[], T>(
  task: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (...args) => {
    const next = last.then(
      () => task(...args),
      () => task(...args),
    );
    last = next.catch(() => undefined);
    return next;
  };
}
