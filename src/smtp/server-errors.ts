// smtp-server's 'error' events, logged by who caused them. Most come from one client's connection: a
// reset inside a mail transaction, a STARTTLS or implicit-TLS handshake that failed (plain text on
// the TLS port, an old cipher list), a TCP health check that connects to SMTP_TLS_PORT and closes.
// Those are the client's doing and are logged at info with its address, once each (a failed
// STARTTLS handshake is reported twice by smtp-server). Only the rest, failures of the listener
// itself such as an accept that fails with EMFILE, are errors of the gateway.
import type { Logger } from '../shared/logger.js';
import { plainIp } from './policy.js';

/** What smtp-server 3.21 puts on the errors it emits (smtp-connection.js). */
interface ServerError extends Error {
  code?: unknown;
  /** Set by SMTPConnection on every error of a client's connection. */
  remoteAddress?: unknown;
  /** Set on TLS handshake failures (normalizeTLSError); the implicit-TLS port puts the client here. */
  meta?: { remoteAddress?: unknown };
  /** false on errors smtp-server itself does not think worth reporting (a socket closed during TLS). */
  report?: unknown;
}

/** Socket errors that say the client went away. */
const GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** The client whose connection an error belongs to, or undefined for an error of the listener. */
function clientOf(err: ServerError): string | undefined {
  const address = typeof err.remoteAddress === 'string' ? err.remoteAddress : err.meta?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}

/** A handler for smtp-server's 'error' event. */
export function createServerErrorLogger(logger: Logger): (err: Error) => void {
  const seen = new WeakSet<Error>();
  return (error) => {
    if (seen.has(error)) return;
    seen.add(error);
    const err = error as ServerError;
    const code = typeof err.code === 'string' ? err.code : undefined;
    const client = clientOf(err);
    if (client === undefined) {
      logger.error({ err: err.message, code }, 'smtp.server_error');
      return;
    }
    const fields = { client: plainIp(client), err: err.message.trim(), code };
    const tls = err.meta !== undefined;
    // A client gone before its handshake is over (a health check's close or reset) is routine.
    const gone = err.report === false || (tls && code !== undefined && GONE_CODES.has(code));
    const event = tls ? 'smtp.tls_failed' : 'smtp.client_error';
    if (gone) logger.debug(fields, event);
    else logger.info(fields, event);
  };
}
