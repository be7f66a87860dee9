// The version `ses-relay --version` prints: package.json's, read where it sits beside the code, two
// levels up from this file both as source (src/cli) and as built output (dist/cli).
import fs from 'node:fs';

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

export function packageVersion(): string {
  const parsed = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { version?: unknown };
  if (typeof parsed.version !== 'string') throw new Error(`${PACKAGE_JSON.pathname} has no version`);
  return parsed.version;
}
