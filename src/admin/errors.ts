// The admin surface's error codes and their HTTP statuses, kept apart from the gateway's catalog
// (shared/errors.ts) because they never cross the SMTP or queue boundaries. Every admin error
// answers `{ error: { code, message, field? } }`.
import type express from 'express';
import type { Logger } from '../shared/logger.js';
import { isRedisUnavailable } from '../shared/redis-unavailable.js';
import { SuppressionModeError } from '../suppression/mode.js';

export const ADMIN_ERRORS = {
  ADMIN_UNAUTHORIZED: {
    status: 401,
    doc: 'Missing or wrong admin credentials (the same answer for any path).',
  },
  ADMIN_CROSS_SITE: {
    status: 403,
    doc: 'A state-changing request came from another site (Sec-Fetch-Site, an Origin other than the Host, or Origin: null); refused against CSRF.',
  },
  ADMIN_FORBIDDEN: {
    status: 403,
    doc: 'A queue dashboard action that would bypass the gateway (pause without a hold, add, empty, clean, retry a completed job…).',
  },
  ADMIN_BAD_REQUEST: {
    status: 400,
    doc: 'A query parameter, path segment or body field is invalid; `field` names it.',
  },
  ADMIN_NOT_FOUND: { status: 404, doc: 'No such admin route, suppression entry or message.' },
  ADMIN_NOT_ACCEPTABLE: {
    status: 406,
    doc: 'The export streams CSV or JSON lines; the request accepts neither (a JSON client asking for "export").',
  },
  ADMIN_PAYLOAD_TOO_LARGE: {
    status: 413,
    doc: 'The request body is over its limit (1 MiB JSON, 50 MiB import).',
  },
  ADMIN_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    doc: 'The request body has a type, encoding or charset the API does not take (form encodings never).',
  },
  ADMIN_INTERNAL: {
    status: 500,
    doc: 'An unexpected failure (a bug), or a suppression list written under another SUPPRESSION_HASH_KEY setting (the message says so); logged as admin.error.',
  },
  ADMIN_REDIS_UNAVAILABLE: {
    status: 503,
    doc: 'Redis is unreachable or not serving (down, loading, failing over); try again. Logged as admin.redis_unavailable.',
  },
} as const satisfies Record<string, { status: number; doc: string }>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: AdminErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AdminError';
    this.code = code;
    this.status = ADMIN_ERRORS[code].status;
    this.field = options.field;
  }
}

export function errorBody(code: AdminErrorCode, message: string, field?: string) {
  return { error: { code, message, ...(field === undefined ? {} : { field }) } };
}

/**
 * No error is cached, wherever it is answered: the queue dashboard's static paths carry long cache
 * lifetimes (queue-board.ts), and a bundle missing on one instance during a rolling upgrade must not
 * stay a 404 in the browser for a year.
 */
export function sendError(res: express.Response, err: AdminError): void {
  res
    .status(err.status)
    .set('Cache-Control', 'no-store')
    .json(errorBody(err.code, err.message, err.field));
}

/**
 * express.json() refuses a top-level string, number, boolean or null (strict mode) with the same
 * error as broken JSON; its `body` is the text it read, which says which of the two it was.
 */
function isJsonText(err: unknown): boolean {
  const { body } = err as { body?: unknown };
  if (typeof body !== 'string') return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

/** body-parser marks its errors with `type` and `status`; these are the client's fault. */
function fromBodyParser(err: unknown): AdminError | undefined {
  const type = (err as { type?: unknown }).type;
  switch (type) {
    case 'entity.too.large':
      return new AdminError('ADMIN_PAYLOAD_TOO_LARGE', 'Request body is too large', { field: 'body' });
    case 'entity.parse.failed': {
      const message = isJsonText(err) ? 'body: expected a JSON object' : 'body: not valid JSON';
      return new AdminError('ADMIN_BAD_REQUEST', message, { field: 'body' });
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AdminError('ADMIN_UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding or charset', {
        field: 'body',
      });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return new AdminError('ADMIN_BAD_REQUEST', 'body: could not be read', { field: 'body' });
    default:
      return undefined;
  }
}

/**
 * Errors raised about the request before any route ran carry a 4xx `status` (the http-errors
 * convention) but none of the body-parser `type`s above: a path parameter that is not valid
 * percent-encoding (the router) or a body that does not decompress, an empty gzip stream included
 * (body-parser passes zlib's error on). They are the client's fault: 400/413/415, not 500.
 */
function clientFault(err: unknown): AdminError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, type } = err as { status?: unknown; type?: unknown };
  if (typeof type === 'string' || typeof status !== 'number' || status < 400 || status >= 500)
    return undefined;
  if (err instanceof URIError)
    return new AdminError('ADMIN_BAD_REQUEST', 'path: not valid percent-encoding', { field: 'path' });
  const code =
    status === 413
      ? 'ADMIN_PAYLOAD_TOO_LARGE'
      : status === 415
        ? 'ADMIN_UNSUPPORTED_MEDIA_TYPE'
        : 'ADMIN_BAD_REQUEST';
  return new AdminError(code, 'body: could not be read', { field: 'body' });
}

/**
 * What an error answers as: known errors as themselves, the body parser's as the client's fault, a
 * Redis outage as 503 (the operator's next step is Redis, not a bug report), the suppression list's
 * mode refusal as a 500 that says what to fix, anything else as a 500 that says nothing of it. The
 * last three are logged.
 */
export function asAdminError(err: unknown, logger: Logger, path: string): AdminError {
  const known = err instanceof AdminError ? err : (fromBodyParser(err) ?? clientFault(err));
  if (known) return known;
  const message = err instanceof Error ? err.message : String(err);
  if (isRedisUnavailable(err)) {
    logger.warn({ err: message, path }, 'admin.redis_unavailable');
    return new AdminError('ADMIN_REDIS_UNAVAILABLE', 'Redis unreachable');
  }
  logger.error({ err: message, path }, 'admin.error');
  const said = err instanceof SuppressionModeError ? message : 'Internal error';
  return new AdminError('ADMIN_INTERNAL', said);
}

/** The last handler of the admin routers. */
export function adminErrorHandler(logger: Logger): express.ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      // A streamed export failed midway: cutting the connection tells the client it is incomplete.
      logger.error(
        { err: err instanceof Error ? err.message : String(err), path: req.path },
        'admin.stream_failed',
      );
      res.destroy();
      return;
    }
    sendError(res, asAdminError(err, logger, req.path));
  };
}
