// The start-up message a configuration is refused with; fails the test when it is accepted.
import { parseConfig } from '../../src/config/index.js';

export function problemsOf(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}
