import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/output.js';

describe('CLI tables', () => {
  it('lays out a table of 125,000 rows (no argument spread of every row)', () => {
    const rows = Array.from({ length: 125_000 }, (_, i) => [`user${i}@example.com`, 'bounce']);
    const text = table(['ADDRESS', 'REASON'], rows);
    expect(text.split('\n')).toHaveLength(125_001);
    expect(text.split('\n')[1]).toBe('user0@example.com       bounce');
  });
});
