// How the doctor's checks name an SES failure in their one-line messages, and where SES is.
import { sesErrorFacts } from '../ses/classify.js';

/**
 * `Name: message`, the message cut at its first line: behind a proxy, an SES error's message can be
 * a whole HTML error page, whose second line would break the report's one-line-per-finding layout.
 */
export function describeSdkError(err: unknown): string {
  const facts = sesErrorFacts(err);
  // A server error's body (a proxy's page) says less than its status does.
  const status =
    facts.httpStatus !== undefined && facts.httpStatus >= 500 ? ` (HTTP ${facts.httpStatus})` : '';
  return `${facts.name}: ${facts.message.split(/\r?\n/, 1)[0]!.trim()}${status}`;
}

/** `SES at http://… (SES_ENDPOINT)` when the calls go elsewhere than AWS, else `SES <region>`. */
export function sesTarget(region: string, endpoint: string | undefined): string {
  return endpoint ? `SES at ${endpoint} (SES_ENDPOINT)` : `SES ${region}`;
}
