// Failures of the CLI's SES calls, told apart from Redis failures: a socket error (ENOTFOUND,
// ECONNREFUSED) reads the same whichever server it came from, so the SES client the runtime builds
// marks everything it throws, and only errors without that mark can be Redis's.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { errorMessage } from '../shared/errors.js';
import { NETWORK_ERROR_CODES } from '../shared/network-errors.js';

const sesFailures = new WeakSet<object>();

/** What the SDK and AbortSignal.timeout throw for a call that got no answer in time. */
const UNREACHABLE_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'AbortError', 'RequestTimeout']);

/** Marks every error the client's calls throw (its middleware runs around the whole call). */
export function markSesFailures(client: SESv2Client): SESv2Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (typeof err === 'object' && err !== null) sesFailures.add(err);
        throw err;
      }
    },
    { step: 'initialize', priority: 'high', name: 'cliMarkSesFailures' },
  );
  return client;
}

export function isSesFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && sesFailures.has(err);
}

/** The first line only: a proxy's HTML error page or a stack would break a one-line report. */
export function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0]!.trim();
}

function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) || UNREACHABLE_NAMES.has(err.name);
}

export interface SesTarget {
  endpoint: string | undefined;
  region: string;
}

/**
 * One line for an SES failure: `cannot reach SES at …` when no answer came, else SES's answer. Names
 * SES_ENDPOINT when it is set, since the region then says nothing about where the call went.
 */
export function describeSesFailure(err: unknown, target: SesTarget): string {
  const message = firstLine(errorMessage(err));
  if (isUnreachable(err)) {
    const where = target.endpoint ? `${target.endpoint} (SES_ENDPOINT)` : `${target.region} (AWS_REGION)`;
    return `cannot reach SES at ${where}: ${message}`;
  }
  const name = err instanceof Error ? `${err.name}: ` : '';
  return `SES (${target.endpoint ?? target.region}): ${name}${message}`;
}
