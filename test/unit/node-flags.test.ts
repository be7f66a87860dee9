import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { missingNodeFlags, RECOMMENDED_NODE_FLAGS } from '../../src/shared/node-flags.js';

describe('missingNodeFlags', () => {
  it('names every recommended flag when none is given', () => {
    expect(missingNodeFlags([], '')).toEqual(RECOMMENDED_NODE_FLAGS);
  });

  it('counts a flag as given on the command line or in NODE_OPTIONS, with any value or spelling', () => {
    expect(missingNodeFlags(['--max-semi-space-size=64'], '')).toEqual([]);
    expect(missingNodeFlags([], '--enable-source-maps --max_semi_space_size=16')).toEqual([]);
    expect(missingNodeFlags(['--max-old-space-size=512'], '--trace-warnings')).toEqual(
      RECOMMENDED_NODE_FLAGS,
    );
  });

  it('is what npm start and npm run demo pass to node', () => {
    const scripts = (
      JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const name of ['start', 'demo']) {
      const words = scripts[name]!.split(/\s+/);
      expect(missingNodeFlags(words, ''), name).toEqual([]);
    }
  });
});
