import { describe, expect, it } from 'vitest';
import { unreadableInput } from '../../src/cli/import-format.js';

describe('inputs an import refuses whole', () => {
  it('refuses UTF-16 text, as its bytes read in UTF-8', () => {
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('address\r\n', 'utf16le')]);
    expect(unreadableInput(utf16le.toString('utf8'))).toMatch(/^is UTF-16 text/);
    // Without a byte-order mark: ASCII spaced out by NULs.
    expect(unreadableInput(Buffer.from('address', 'utf16le').toString('utf8'))).toMatch(/^is UTF-16 text/);
  });

  it('refuses a JSON array and takes CSV and JSON lines', () => {
    expect(unreadableInput('  [{"address":"a@example.com"}]')).toMatch(/^is a JSON array/);
    expect(unreadableInput('\uFEFF[')).toMatch(/^is a JSON array/);
    expect(unreadableInput('address,reason')).toBeUndefined();
    expect(unreadableInput('{"address":"a@example.com"}')).toBeUndefined();
    expect(unreadableInput(undefined)).toBeUndefined();
  });
});
