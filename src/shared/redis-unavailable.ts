// Tells "Redis could not be reached or cannot serve right now" apart from every other failure, so a
// boundary can answer "try again later" (HTTP 503) instead of "internal error". Pure: it looks only
// at the error, which ioredis often reports as a plain Error whose message is all there is to go by.
import { NETWORK_ERROR_CODES } from './network-errors.js';

/** ioredis's own error names when it gives up on a command or on every Cluster node. */
const UNAVAILABLE_NAMES: ReadonlySet<string> = new Set([
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
]);

/** ioredis's plain-Error messages for a connection that is gone, blocked or never answered. */
const UNAVAILABLE_MESSAGES: readonly RegExp[] = [
  /^Command timed out$/,
  /^Connection is closed\.?$/,
  /^Stream isn't writeable/,
  /^None of startup nodes is available/,
  /^Failed to refresh slots cache/,
];

/** Redis replies that mean "not now" rather than "wrong command": loading, failing over, no quorum. */
const UNAVAILABLE_REPLIES = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/;

/** How deep a chain of `cause`s is followed: errors wrapped by our own layers. */
const MAX_CAUSE_DEPTH = 5;

function isUnavailableError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    UNAVAILABLE_NAMES.has(err.name) ||
    UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(err.message)) ||
    UNAVAILABLE_REPLIES.test(err.message) ||
    (typeof code === 'string' && NETWORK_ERROR_CODES.has(code))
  );
}

/** True when `err`, or an error it wraps, says Redis is unreachable or not serving. */
export function isRedisUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (isUnavailableError(current)) return true;
    current = current.cause;
  }
  return false;
}
