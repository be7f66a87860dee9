// Entries of a sender allow-list (SMTP_ALLOWED_SENDERS, a user's allowedSenders): "app@example.com"
// or "@example.com". MAIL FROM is compared in lower case with its domain in punycode, so entries are
// stored the same way: "@bücher.de" matches app@bücher.de and app@xn--bcher-kva.de. Pure.
import { domainToASCII } from 'node:url';

const ENTRY = /^[^@\s]*@[^@\s]+$/;
// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

/** The entry as MAIL FROM is compared with it, or undefined when it is not an address or @domain. */
export function senderEntry(input: string): string | undefined {
  const entry = input.trim().toLowerCase();
  if (!ENTRY.test(entry)) return undefined;
  const at = entry.lastIndexOf('@');
  const domain = entry.slice(at + 1);
  if (ASCII.test(domain)) return entry;
  // domainToASCII returns '' for a name it cannot convert.
  const ascii = domainToASCII(domain);
  return ascii === '' ? undefined : `${entry.slice(0, at + 1)}${ascii}`;
}
