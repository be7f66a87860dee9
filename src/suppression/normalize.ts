// The one address normalisation every suppression path uses (SMTP checks, SES events, imports, admin),
// so that `"Jane" <Jane@Example.COM>` and `jane@example.com` are the same entry. Pure.
import { asciiDomain } from '../shared/ascii-domain.js';

/** RFC 5321 limits: a longer string cannot be a deliverable address. */
const MAX_LOCAL_PART_CHARS = 64;
const MAX_ADDRESS_CHARS = 254;

// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\x00-\x20\x7f]/;
/** A quoted local part: characters other than `"`, backslash, CR and LF, or backslash pairs. */
const QUOTED_LOCAL_PART = /^"(?:[^"\\\r\n]|\\[\x20-\x7e])*"$/;
/**
 * RFC 5322 specials, which only a quoted local part may hold: unquoted, `a@b.com,c@d.com` or
 * `x;a@b.com` is a list or a typo, not one mailbox, and storing it would suppress nobody.
 */
const SPECIALS = /[()<>[\]:;@\\,"]/;
const DOMAIN_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const ADDRESS_LITERAL = /^\[[0-9a-f.:]+\]$|^\[ipv6:[0-9a-f.:]+\]$/;
/** A trailing RFC 5322 comment, as in `jane@example.com (Jane Doe)`. */
const TRAILING_COMMENT = /\s*\([^()]*\)$/;

/** Strips a display name and angle brackets: `"Jane" <jane@x>` → `jane@x`. */
function addrSpec(input: string): string {
  const trimmed = input.trim();
  const close = trimmed.lastIndexOf('>');
  if (close === trimmed.length - 1) {
    const open = trimmed.lastIndexOf('<', close);
    return open === -1 ? trimmed : trimmed.slice(open + 1, close).trim();
  }
  return trimmed.replace(TRAILING_COMMENT, '');
}

function normalizeDomain(domain: string): string | undefined {
  const bare = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (ADDRESS_LITERAL.test(bare)) return bare;
  const ascii = asciiDomain(bare);
  return DOMAIN_NAME.test(ascii) ? ascii : undefined;
}

/** A local part that needs no quotes (RFC 5321 Dot-string). */
function isDotString(local: string): boolean {
  return !(
    CONTROL_OR_SPACE.test(local) ||
    SPECIALS.test(local) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..')
  );
}

function normalizeLocalPart(local: string): string | undefined {
  if (local === '' || local.length > MAX_LOCAL_PART_CHARS) return undefined;
  if (QUOTED_LOCAL_PART.test(local)) {
    // `"bob"` and `"b\ob"` are the mailbox `bob` (RFC 5321 4.1.2: a backslash pair stands for its
    // second character): quotes and backslashes that protect nothing must not make a second spelling
    // of a suppressed address. A local part that needs its quotes keeps them, with `"` and `\` (and
    // nothing else) escaped, so every spelling of it has one form.
    const inner = local.slice(1, -1).replace(/\\(.)/g, '$1');
    if (inner !== '' && isDotString(inner)) return inner;
    return `"${inner.replace(/["\\]/g, '\\$&')}"`;
  }
  return isDotString(local) ? local : undefined;
}

/**
 * Returns the canonical form of an address (lower-case, punycode domain, no display name), or
 * undefined when the input is not an address. The local part is lower-cased too: mailbox providers
 * treat it case-insensitively in practice, and a suppression must match however the sender spells it.
 */
export function normalizeAddress(input: string): string | undefined {
  const spec = addrSpec(input).toLowerCase();
  if (spec.length > MAX_ADDRESS_CHARS) return undefined;
  const at = spec.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = normalizeLocalPart(spec.slice(0, at));
  const domain = normalizeDomain(spec.slice(at + 1));
  if (local === undefined || domain === undefined) return undefined;
  return `${local}@${domain}`;
}
