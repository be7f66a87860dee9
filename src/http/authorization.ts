// Reading an Authorization header and comparing the secret it carries, for every HTTP surface that
// takes one (/metrics, /admin). Secrets are compared as SHA-256 digests with timingSafeEqual, so
// neither the content nor the length of a secret leaks through response times (a plain
// timingSafeEqual must first compare lengths).
import { createHash, timingSafeEqual } from 'node:crypto';

export const secretDigest = (value: string | Buffer): Buffer => createHash('sha256').update(value).digest();

/** True when `given` is the secret whose digest is `wanted`, in constant time. */
export function digestMatches(given: string, wanted: Buffer): boolean {
  return timingSafeEqual(secretDigest(given), wanted);
}

/**
 * Splits an Authorization header into its scheme (lower-case) and credentials. The scheme is
 * case-insensitive and may be followed by more than one space (RFC 9110, 11.1 and 11.4).
 */
export function parseAuthorization(
  header: string | undefined,
): { scheme: string; credentials: string } | undefined {
  const match = header === undefined ? null : /^([A-Za-z]+) +(\S.*)$/.exec(header.trim());
  return match ? { scheme: match[1]!.toLowerCase(), credentials: match[2]!.trim() } : undefined;
}

/** Returns a check of an Authorization header against one bearer token. */
export function createBearerCheck(token: string): (header: string | undefined) => boolean {
  const wanted = secretDigest(token);
  return (header) => {
    const parsed = parseAuthorization(header);
    return parsed?.scheme === 'bearer' && digestMatches(parsed.credentials, wanted);
  };
}
