import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../../src/suppression/normalize.js';

describe('normalizeAddress', () => {
  it.each([
    ['jane@example.com', 'jane@example.com'],
    ['  jane@example.com \r\n', 'jane@example.com'],
    ['Jane@Example.COM', 'jane@example.com'],
    ['"Jane" <Jane@Example.COM>', 'jane@example.com'],
    ['Jane Doe <jane@example.com>', 'jane@example.com'],
    ['"Doe, Jane" <jane@example.com>', 'jane@example.com'],
    ['<jane@example.com>', 'jane@example.com'],
    ['jane@example.com (Jane Doe)', 'jane@example.com'],
    ['jane@example.com.', 'jane@example.com'],
    ['jane+tag@example.com', 'jane+tag@example.com'],
    ['jane@bücher.example', 'jane@xn--bcher-kva.example'],
    ['Jane@BÜCHER.example', 'jane@xn--bcher-kva.example'],
    ['jane@xn--bcher-kva.example', 'jane@xn--bcher-kva.example'],
    ['root@localhost', 'root@localhost'],
    ['jane@[192.0.2.1]', 'jane@[192.0.2.1]'],
    ['"john doe"@example.com', '"john doe"@example.com'],
    ['a.b@sub.example.co.uk', 'a.b@sub.example.co.uk'],
    ['"a,b;c"@example.com', '"a,b;c"@example.com'],
    // Quotes around a plain local part name the same mailbox, so they cannot dodge a suppression.
    ['"bob"@example.com', 'bob@example.com'],
    ['"Bob.Smith"@Example.com', 'bob.smith@example.com'],
    ['"bob."@example.com', '"bob."@example.com'],
    ['"a..b"@example.com', '"a..b"@example.com'],
    ["o'brien!#$%&*=?^_`{|}~-@example.com", "o'brien!#$%&*=?^_`{|}~-@example.com"],
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it.each([
    [''],
    ['   '],
    ['jane'],
    ['jane@'],
    ['@example.com'],
    ['<>'],
    ['jane doe@example.com'],
    ['jane@exa mple.com'],
    ['jane@example..com'],
    ['jane@-example.com'],
    ['jane@exa_mple.com'],
    ['.jane@example.com'],
    ['jane.@example.com'],
    ['ja..ne@example.com'],
    ['jane@example.com>'],
    ['jane\u0000@example.com'],
    [`${'a'.repeat(65)}@example.com`],
    [`jane@${'a'.repeat(250)}.com`],
    ['a@b.com,c@d.com'],
    ['x;a@b.com'],
    ['ja(ne@example.com'],
    ['ja)ne@example.com'],
    ['ja<ne@example.com'],
    ['ja[ne@example.com'],
    ['ja]ne@example.com'],
    ['ja:ne@example.com'],
    ['ja\\ne@example.com'],
    ['ja"ne@example.com'],
    ['jane@doe@example.com'],
  ])('rejects %j', (input) => {
    expect(normalizeAddress(input)).toBeUndefined();
  });

  it('gives the same form for every spelling of one address', () => {
    const spellings = ['JANE@bücher.example', '"J" <jane@BÜCHER.EXAMPLE>', ' <Jane@xn--bcher-kva.example> '];
    expect(new Set(spellings.map(normalizeAddress))).toEqual(new Set(['jane@xn--bcher-kva.example']));
  });
});
