import { describe, expect, it } from 'vitest';
import { escapeControls, escapeValue, table, toJson } from '../../src/cli/output.js';

describe('CLI text on a terminal', () => {
  it('escapes C0 and C1 control characters, keeping the line feeds that end lines', () => {
    expect(escapeControls('a\u001b]0;owned\u0007b\r\tc\u009bd\u007f\nnext')).toBe(
      'a\\x1b]0;owned\\x07b\\x0d\\x09c\\x9bd\\x7f\nnext',
    );
    expect(escapeValue('two\nlines')).toBe('two\\x0alines');
    // Unicode text stays as it is.
    expect(escapeControls('José <jose@exämple.com> ✓')).toBe('José <jose@exämple.com> ✓');
  });

  it('escapes control characters inside table cells before measuring them', () => {
    expect(table(['A', 'B'], [['"\u001b[31m"@x.com', 'smtp; 550\nforged row']])).toBe(
      `${'A'.padEnd(16)}  B\n"\\x1b[31m"@x.com  smtp; 550\\x0aforged row`,
    );
  });

  it('writes DEL and C1 controls in JSON as \\u escapes, the same value to a parser', () => {
    const value = { address: '"\u009b2J\u007f"@x.com', code: '\u001b[2J' };
    const json = toJson(value);
    // eslint-disable-next-line no-control-regex -- matching them is the point
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(json)).toEqual(value);
  });
});
