// Spellings of one mailbox that RFC 5321 allows and the SMTP intake accepts must all name one entry:
// a backslash pair in a quoted local part stands for its second character.
import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../../src/suppression/normalize.js';

describe('normalizeAddress and quoted pairs', () => {
  it.each([
    ['"b\\ob"@example.net', 'bob@example.net'],
    ['"\\b\\o\\b"@Example.NET', 'bob@example.net'],
    ['"Jane\\.Doe"@example.net', 'jane.doe@example.net'],
    ['"a\\ b"@example.net', '"a b"@example.net'],
    ['"a\\"b"@example.net', '"a\\"b"@example.net'],
    ['"a\\\\b"@example.net', '"a\\\\b"@example.net'],
    ['"a\\@b"@example.net', '"a@b"@example.net'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });

  it('gives a form that normalises to itself', () => {
    for (const input of ['"a\\"b"@example.net', '"a\\\\b"@example.net', '"a b"@example.net', '"x,y"@a.b']) {
      const once = normalizeAddress(input)!;
      expect(normalizeAddress(once)).toBe(once);
    }
  });

  it.each([['"a\\"@example.net'], ['"a"b"@example.net'], ['"a\\\u0001"@example.net']])(
    'rejects %j',
    (input) => {
      expect(normalizeAddress(input)).toBeUndefined();
    },
  );
});
