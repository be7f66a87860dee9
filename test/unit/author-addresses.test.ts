import { describe, expect, it } from 'vitest';
import { authorAddresses } from '../../src/mail/author-addresses.js';
import { newField } from '../../src/mail/headers.js';

const fields = (...lines: [string, string][]) => lines.map(([name, value]) => newField(name, value, '\r\n'));

describe('author addresses (From and Sender)', () => {
  it('reads every mailbox of From and Sender, lower-cased, IDN domains in punycode', () => {
    expect(
      authorAddresses(
        fields(
          ['From', '"Müller, Jörg" <Joerg@Bücher.de>, other@Example.COM (comment)'],
          ['Sender', 'Team: a@x.example, b@y.example;'],
          ['Reply-To', 'not-an-author@example.org'],
        ),
      ),
    ).toEqual(['joerg@xn--bcher-kva.de', 'other@example.com', 'a@x.example', 'b@y.example']);
  });

  it('gives nothing for a From without an address', () => {
    expect(authorAddresses(fields(['From', 'undisclosed']))).toEqual([]);
    expect(authorAddresses(fields(['Subject', 'x']))).toEqual([]);
  });
});
