// The operators' HTTP surface, mounted at the app root: /admin (the page), /admin/queues (Bull Board)
// and /admin/api/* (JSON). Everything under /admin passes the credential check first; with no
// credentials configured the whole prefix answers exactly like an unknown route.
import type { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import type { SendingHolds } from '../queue/holds.js';
import type { Logger } from '../shared/logger.js';
import type { SuppressionStore } from '../suppression/store.js';
import type { TraceStore } from '../trace/trace-store.js';
import { createOperationsApi } from './api-operations.js';
import { createSuppressionsApi } from './api-suppressions.js';
import {
  challengeFor,
  createCredentialCheck,
  planAuth,
  type AdminAuthOptions,
  type AdminAuthPlan,
} from './auth.js';
import { apiBodies } from './body-types.js';
import { refuseCrossSite } from './cross-site.js';
import type { RetryOptions } from '../ops/index.js';
import { createKeys } from '../shared/keys.js';
import { AdminError, adminErrorHandler, sendError } from './errors.js';
import { setPrincipal } from './principal.js';
import { buildAdminPage, type AdminPage } from './page.js';
import { createQueueBoard, QUEUE_BOARD_PATH } from './queue-board.js';

export interface AdminDeps {
  redis: Redis;
  /** The deployment's REDIS_PREFIX. */
  prefix: string;
  /** The outbound queue (the only queue the gateway uses). */
  queue: Queue;
  holds: SendingHolds;
  suppression: SuppressionStore;
  trace: TraceStore;
  logger: Logger;
  auth: AdminAuthOptions;
  /** How long a retried message's bytes are kept (storedBytesTtlMs, as at intake). */
  rawTtlMs?: number;
}

/** How the admin API and the queue dashboard retry failed messages (as `queue retry-failed`). */
function retryOptionsOf(deps: AdminDeps): RetryOptions {
  if (deps.rawTtlMs === undefined) return {};
  return { bytes: { redis: deps.redis, keys: createKeys(deps.prefix), ttlMs: deps.rawTtlMs } };
}

export interface AdminRouter {
  router: express.Router;
  /** False when no credentials are configured (then /admin answers 404). */
  enabled: boolean;
  /** For start-up to log, e.g. that /admin is disabled. */
  warning?: string;
}

/** Headers for every /admin answer: nothing cached, sniffed, framed or leaked in a Referer. */
function securityHeaders(_req: express.Request, res: express.Response, next: express.NextFunction): void {
  res.set({
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  next();
}

function sendPage(res: express.Response, page: AdminPage, status: number): void {
  res.status(status).set('Content-Security-Policy', page.csp).type('html').send(page.html);
}

/**
 * Unauthenticated requests get 401 with the same body whatever the path. One exception of form, not
 * of substance: a browser navigating to the page itself (/admin) without credentials while a token
 * is configured gets the page as the 401 body (it holds no data), so it can ask for the token — a
 * navigation cannot send a bearer header. Anywhere else under /admin the page would run at the wrong
 * address (its script would draw the whole admin over, say, /admin/queues/), so those navigations
 * get the JSON 401 like API clients (no text/html in Accept) do.
 */
function requireCredentials(
  plan: AdminAuthPlan,
  options: AdminAuthOptions,
  page: AdminPage,
): express.RequestHandler {
  const check = createCredentialCheck(options);
  const challenge = challengeFor(plan);
  return (req, res, next) => {
    const principal = check(req.headers.authorization);
    if (principal !== undefined) {
      setPrincipal(res, principal);
      next();
      return;
    }
    res.set('WWW-Authenticate', challenge);
    const navigating =
      plan.bearer &&
      req.headers.authorization === undefined &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      req.path === '/' &&
      req.accepts(['json', 'html']) === 'html';
    if (navigating) sendPage(res, page, 401);
    else sendError(res, new AdminError('ADMIN_UNAUTHORIZED', 'Authentication required'));
  };
}

function createApiRouter(deps: AdminDeps, retry: RetryOptions): express.Router {
  const api = express.Router();
  api.use(apiBodies());
  api.use(createSuppressionsApi(deps.suppression, deps.logger));
  api.use(createOperationsApi({ ...deps, retry }));
  api.use((_req, _res, next) => next(new AdminError('ADMIN_NOT_FOUND', 'No such admin API route')));
  return api;
}

export function createAdminRouter(deps: AdminDeps): AdminRouter {
  const plan = planAuth(deps.auth);
  const router = express.Router();
  const warning = plan.warning === undefined ? {} : { warning: plan.warning };
  if (!plan.enabled) {
    // Word for word the HTTP server's own 404: a disabled admin is indistinguishable from none.
    router.use('/admin', (_req, res) => {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such route' } });
    });
    return { router, enabled: false, ...warning };
  }
  const page = buildAdminPage({ basicAuth: plan.basic });
  router.use('/admin', securityHeaders, requireCredentials(plan, deps.auth, page), refuseCrossSite);
  router.get('/admin', (_req, res) => sendPage(res, page, 200));
  const retry = retryOptionsOf(deps);
  router.use(QUEUE_BOARD_PATH, createQueueBoard([deps.queue], deps.redis, deps.logger, retry));
  router.use('/admin/api', createApiRouter(deps, retry));
  router.use('/admin', (_req, res) => {
    sendError(res, new AdminError('ADMIN_NOT_FOUND', 'No such admin route'));
  });
  router.use('/admin', adminErrorHandler(deps.logger));
  return { router, enabled: true, ...warning };
}
