import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  hasInstallScript?: boolean;
}

function readJson<T>(path: string): T {
  return JSON.parse(fs.readFileSync(new URL(path, import.meta.url), 'utf8')) as T;
}

const lock = readJson<{ packages: Record<string, LockEntry> }>('../../package-lock.json');
const pkg = readJson<{ allowScripts?: Record<string, boolean> }>('../../package.json');

describe('dependency install scripts', () => {
  // npm 12 skips install scripts that package.json does not name, and npm 11 warns about them, so
  // every one is decided here and an install behaves the same on npm 10, 11 and 12.
  const withScripts = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));

  it('finds the locked packages that have one', () => {
    expect(withScripts).toContain('esbuild');
  });

  it.each(withScripts)('decides whether %s may run its install script', (name) => {
    expect(pkg.allowScripts?.[name], `add "${name}" to allowScripts in package.json`).toBeTypeOf('boolean');
  });
});
