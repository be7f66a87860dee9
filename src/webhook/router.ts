// POST /sns for the HTTP role. The body is read as text whatever the Content-Type (SNS sends
// text/plain by default, and express.json() would skip it); errors answer JSON like every route.
//
// Two doors to the same handler: a fast path on the bare Node server for the shape every SNS
// delivery has (a Content-Length within the limit, no Content-Encoding, UTF-8), and the express
// router for everything else (compressed or chunked bodies, other charsets, oversized bodies), whose
// body parser answers the unusual cases.
import type http from 'node:http';
import express from 'express';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { WEBHOOK_ERRORS } from './errors.js';
import type { SnsResult, SnsWebhook } from './webhook.js';

/**
 * SNS's 256 KiB limit is on the Message, and the envelope carries it as a JSON string: escaping
 * (quotes in SES's JSON, quoted header values) grows it by ~12% on typical events, by more on some.
 * Twice the limit leaves room for any of them, plus the envelope's own fields; beyond it is not SNS.
 */
export const SNS_BODY_LIMIT_BYTES = 512 * 1024;

export interface SnsRouterOptions {
  webhook: SnsWebhook;
  logger: Logger;
  /** Default `/sns`. */
  path?: string;
  bodyLimitBytes?: number;
  /**
   * Called once the answer to a POST on the path is out (metrics); other requests are not SNS.
   * `code`: the error code the answer carries (a WebhookErrorCode or INTERNAL), undefined for a 2xx.
   */
  onAnswered?(req: http.IncomingMessage, status: number, code: string | undefined): void;
}

interface BodyParserError extends Error {
  status?: number;
  type?: string;
}

const UTF8_CHARSET = /^utf-?8$/i;

/** True when the request can be read as-is: a known length within the limit, plain UTF-8 bytes. */
function isPlainBody(req: http.IncomingMessage, limit: number): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const length = req.headers['content-length'];
  if (length === undefined || !/^\d{1,9}$/.test(length) || Number(length) > limit) return false;
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  return charset === undefined || UTF8_CHARSET.test(charset);
}

const INTERNAL_ERROR = { error: { code: 'INTERNAL', message: 'internal error' } } as const;

function codeOf(body: SnsResult['body']): string | undefined {
  return 'error' in body ? body.error.code : undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export type SnsFastPathOptions = SnsRouterOptions;

/** The fast door (see the top of this file); returns false for requests the router must take. */
export function createSnsFastPath(
  options: SnsFastPathOptions,
): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  const log = options.logger.child({ component: 'sns' });
  const path = (options.path ?? '/sns').toLowerCase();
  const limit = options.bodyLimitBytes ?? SNS_BODY_LIMIT_BYTES;
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const pathname = (query === -1 ? url : url.slice(0, query)).toLowerCase();
    if ((pathname !== path && pathname !== `${path}/`) || !isPlainBody(req, limit)) return false;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that goes away mid-body gets no answer: there is no one left to read it.
    req.on('error', () => res.destroy());
    req.on('end', () => {
      let code: string | undefined;
      options.webhook
        .handleSnsBody(Buffer.concat(chunks).toString('utf8'), req.headers)
        .then(
          (result) => {
            code = codeOf(result.body);
            sendJson(res, result.status, result.body);
          },
          (err: unknown) => {
            log.error({ err: errorMessage(err) }, 'sns.failed');
            code = INTERNAL_ERROR.error.code;
            sendJson(res, 500, INTERNAL_ERROR);
          },
        )
        .finally(() => options.onAnswered?.(req, res.statusCode, code));
    });
    return true;
  };
}

export function createSnsRouter(options: SnsRouterOptions): express.Router {
  const router = express.Router();
  const log = options.logger.child({ component: 'sns' });
  const limit = options.bodyLimitBytes ?? SNS_BODY_LIMIT_BYTES;

  // Every answer below goes through `answer`, which notes its code for countAnswer.
  const answer = (res: express.Response, status: number, body: SnsResult['body']) => {
    res.locals.snsCode = codeOf(body);
    res.status(status).json(body);
  };
  const countAnswer: express.RequestHandler = (req, res, next) => {
    if (options.onAnswered) {
      res.on('finish', () =>
        options.onAnswered?.(req, res.statusCode, res.locals.snsCode as string | undefined),
      );
    }
    next();
  };

  router.post(
    options.path ?? '/sns',
    countAnswer,
    express.text({ type: () => true, limit }),
    (req, res, next) => {
      const body: unknown = req.body;
      options.webhook
        .handleSnsBody(typeof body === 'string' ? body : '', req.headers)
        .then((result) => answer(res, result.status, result.body))
        .catch(next);
    },
  );

  router.use(
    (err: BodyParserError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (err.type === 'entity.too.large') {
        log.warn({ limit }, 'sns.refused.too_large');
        const { http } = WEBHOOK_ERRORS.SNS_BODY_TOO_LARGE;
        answer(res, http, { error: { code: 'SNS_BODY_TOO_LARGE', message: `body over ${limit} bytes` } });
        return;
      }
      // Other body-parser failures (bad charset, a body that does not decompress, an aborted upload)
      // carry a 4xx; anything else is ours. The answer's text is fixed: the error's own quotes the
      // request (the charset) or zlib. The log keeps it for the operator.
      const clientFault = err.status !== undefined && err.status >= 400 && err.status < 500;
      if (!clientFault) {
        log.error({ err: err.message }, 'sns.failed');
        answer(res, 500, INTERNAL_ERROR);
        return;
      }
      log.warn({ err: err.message, type: err.type }, 'sns.refused.body');
      const [code, message] =
        err.status === 415
          ? (['SNS_UNSUPPORTED_MEDIA_TYPE', 'the body has an encoding or charset it cannot read'] as const)
          : (['SNS_MALFORMED', 'the body could not be read'] as const);
      answer(res, WEBHOOK_ERRORS[code].http, { error: { code, message } });
    },
  );

  return router;
}
