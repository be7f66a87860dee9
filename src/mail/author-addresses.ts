// The addresses a message names as its author: every mailbox of its From and Sender fields, the
// ones recipients see and SES checks against the sending identity. Parsed with nodemailer's
// addressparser (display names, quoted strings, comments, groups), lower-cased, domains in punycode
// as the allow-lists store them.
import addressparser from 'nodemailer/lib/addressparser';
import { asciiDomain } from '../shared/ascii-domain.js';
import type { HeaderField } from './headers.js';

const AUTHOR_FIELDS = new Set(['from', 'sender']);

/** Every mailbox of the From and Sender fields; a field with none gives none (an empty list). */
export function authorAddresses(fields: readonly HeaderField[]): string[] {
  const addresses: string[] = [];
  for (const field of fields) {
    if (!AUTHOR_FIELDS.has(field.key)) continue;
    for (const entry of addressparser(field.value, { flatten: true })) {
      const address = entry.address.trim();
      const at = address.lastIndexOf('@');
      if (at <= 0) continue;
      // A domain that cannot be converted stays as written: it then matches no allow-list entry.
      const domain = asciiDomain(address.slice(at + 1)) || address.slice(at + 1);
      addresses.push(`${address.slice(0, at)}@${domain}`.toLowerCase());
    }
  }
  return addresses;
}
