// Entries of a sender allow-list (SMTP_ALLOWED_SENDERS, a user's allowedSenders): "app@example.com"
// or "@example.com". MAIL FROM is compared in lower case with its domain in punycode, so entries are
// stored the same way: "@bücher.de" matches app@bücher.de and app@xn--bcher-kva.de. Pure.
import { asciiDomain } from '../shared/ascii-domain.js';

const ENTRY = /^[^@\s<>]*@[^@\s]+$/;
/**
 * A domain MAIL FROM can have once in punycode (smtp/address.ts), in dot-separated labels: an entry
 * such as `<app@example.com>` or `@example.com.` would be taken and then never match a sender.
 */
const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f.:]+\]$/;

/** The entry as MAIL FROM is compared with it, or undefined when it is not an address or @domain. */
export function senderEntry(input: string): string | undefined {
  const entry = input.trim().toLowerCase();
  if (!ENTRY.test(entry)) return undefined;
  const at = entry.lastIndexOf('@');
  const domain = asciiDomain(entry.slice(at + 1));
  return DOMAIN.test(domain) ? `${entry.slice(0, at + 1)}${domain}` : undefined;
}
