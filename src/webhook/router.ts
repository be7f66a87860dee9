// POST /sns for the HTTP role. The body is read as text whatever the Content-Type (SNS sends
// text/plain by default, and express.json() would skip it); errors answer JSON like every route.
import express from 'express';
import type { Logger } from '../shared/logger.js';
import { WEBHOOK_ERRORS } from './errors.js';
import type { SnsWebhook } from './webhook.js';

/** SNS messages are at most 256 KB; anything larger is not SNS. */
export const SNS_BODY_LIMIT_BYTES = 256 * 1024;

export interface SnsRouterOptions {
  webhook: SnsWebhook;
  logger: Logger;
  /** Default `/sns`. */
  path?: string;
  bodyLimitBytes?: number;
}

interface BodyParserError extends Error {
  status?: number;
  type?: string;
}

export function createSnsRouter(options: SnsRouterOptions): express.Router {
  const router = express.Router();
  const log = options.logger.child({ component: 'sns' });
  const limit = options.bodyLimitBytes ?? SNS_BODY_LIMIT_BYTES;

  router.post(options.path ?? '/sns', express.text({ type: () => true, limit }), (req, res, next) => {
    const body: unknown = req.body;
    options.webhook
      .handleSnsBody(typeof body === 'string' ? body : '', req.headers)
      .then((result) => {
        res.status(result.status).json(result.body);
      })
      .catch(next);
  });

  router.use(
    (err: BodyParserError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      if (err.type === 'entity.too.large') {
        log.warn({ limit }, 'sns.refused.too_large');
        const { http } = WEBHOOK_ERRORS.SNS_BODY_TOO_LARGE;
        res.status(http).json({ error: { code: 'SNS_BODY_TOO_LARGE', message: `body over ${limit} bytes` } });
        return;
      }
      // Other body-parser failures (bad charset, aborted upload) carry a 4xx; anything else is ours.
      const status = err.status !== undefined && err.status >= 400 && err.status < 500 ? err.status : 500;
      if (status === 500) log.error({ err: err.message }, 'sns.failed');
      else log.warn({ err: err.message, type: err.type }, 'sns.refused.body');
      const code = status === 500 ? 'INTERNAL' : 'SNS_MALFORMED';
      res.status(status).json({ error: { code, message: status === 500 ? 'internal error' : err.message } });
    },
  );

  return router;
}
