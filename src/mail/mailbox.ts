// RFC 5321 §4.1.2 Mailbox syntax, checked on envelope addresses after IDN conversion. SES refuses a
// whole SendEmail call when one destination is malformed, so one bad RCPT accepted here would fail
// the message for every recipient in its chunk; refusing it at RCPT keeps the damage to that address.
// Also keeps separators such as ',' and ';' out of Destination, where they could read as a list.

/** RFC 5321 §4.5.3.1.1 and §4.5.3.1.2. */
const MAX_LOCAL_PART_OCTETS = 64;
const MAX_DOMAIN_OCTETS = 255;

/** Dot-string: atoms of atext joined by single dots. */
const DOT_STRING = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** Quoted-string: printable ASCII except '"' and '\', or a backslash pair. */
const QUOTED_STRING = /^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
/** sub-domain: letter or digit, then letters, digits and hyphens, not ending in a hyphen. */
const SUB_DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** An address literal as the listener already accepts it ([192.0.2.1], [2001:db8::1]). */
const ADDRESS_LITERAL = /^\[[0-9a-f.:]+\]$/i;

export function isMailboxSyntax(address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > MAX_LOCAL_PART_OCTETS || !(DOT_STRING.test(local) || QUOTED_STRING.test(local))) {
    return false;
  }
  if (ADDRESS_LITERAL.test(domain)) return true;
  return (
    domain.length > 0 &&
    domain.length <= MAX_DOMAIN_OCTETS &&
    domain.split('.').every((label) => SUB_DOMAIN.test(label))
  );
}
