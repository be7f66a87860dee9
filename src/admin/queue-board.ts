// Bull Board at /admin/queues: the outbound queue's jobs for operators to inspect, retry, promote and
// clean once finished, behind the admin auth like the rest of /admin. The board's actions that would
// bypass the gateway's own controls are refused in front of it (queue-board-guards.ts); its page gets
// a Content-Security-Policy and loads nothing from outside this origin, and its static files (the
// same for every user) may be cached, unlike every other /admin answer. Its API's failures answer
// in the admin's error shape: its own handler would quote the error (ioredis's text) as a 500.
import { createBullBoard } from '@bull-board/api';
import type { ControllerHandlerReturnType, IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { asAdminError, errorBody } from './errors.js';
import type { RetryOptions } from '../ops/index.js';
import { createBoardGuards } from './queue-board-guards.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * The board's scripts and styles come from its own static files. It needs inline styles: its page
 * carries style attributes and a <style> block for the loading animation, and the UI sets style
 * attributes as it renders. Its config is a JSON <script> block, which a CSP does not run.
 */
export const QUEUE_BOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Bundles named with their content hash (`main.4c9f061c66.js`) never change under that name. */
const HASHED_ASSET = /\.[0-9a-f]{8,}\.(js|css)$/;
/** A year, the longest period caches honour: a new board version comes with new names. */
const HASHED_ASSET_CACHE = 'private, max-age=31536000, immutable';
/** Icons and translations keep their names across board versions: a day. */
const STATIC_CACHE = 'private, max-age=86400';

/** The board's page asks Google Fonts for its typeface; offline that fails, and the CSP forbids it. */
const FONT_LINK = /<link [^>]*href="https:\/\/fonts\.googleapis\.com\/[^"]*"[^>]*>\s*/g;

type RenderFile = (
  path: string,
  options: object,
  callback: (err: Error | null, html?: string) => void,
) => void;

/** Wraps the board's view engine so that its page comes without the external font link. */
function dropExternalFonts(board: express.Express): void {
  const engines = (board as unknown as { engines: Record<string, RenderFile | undefined> }).engines;
  const render = engines['.ejs'];
  if (!render) return;
  board.engine('ejs', (path, options, callback) => {
    render(path, options, (err, html) => callback(err, html?.replace(FONT_LINK, '')));
  });
}

/**
 * Headers on top of securityHeaders' (admin-router.ts): the CSP on every board answer, and cache
 * lifetimes for its static files in place of no-store. `private`: a shared cache should not keep
 * what was fetched with credentials, though the files hold nothing but the board's code.
 */
function boardHeaders(req: express.Request, res: express.Response, next: express.NextFunction): void {
  res.set('Content-Security-Policy', QUEUE_BOARD_CSP);
  if ((req.method === 'GET' || req.method === 'HEAD') && req.path.startsWith('/static/'))
    res.set('Cache-Control', HASHED_ASSET.test(req.path) ? HASHED_ASSET_CACHE : STATIC_CACHE);
  next();
}

/** The board's API routes, named in logs: its error handler is not told which route failed. */
const BOARD_API_PATH = `${QUEUE_BOARD_PATH}/api`;

/**
 * `redis` is the connection the queues use (the guards run scripts of their own on it); `retry`
 * says how failed messages are retried (the CLI's and admin API's retry: see queue-board-guards.ts).
 */
export function createQueueBoard(
  queues: Queue[],
  redis: Redis,
  logger: Logger,
  retry: RetryOptions = {},
): express.Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    // @bull-board/express 9.10.1 pins its own @bull-board/api 9.10.1 while the app has 9.10.2: the
    // interface is the same, but the private fields of two copies make TypeScript call them distinct.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: {
      uiConfig: {
        boardTitle: 'ses-relay queues',
        miscLinks: [{ text: 'Admin page', url: '/admin' }],
      },
    },
  });
  // Called by the adapter's API router for whatever its routes throw (after createBullBoard, which
  // sets the board's own handler).
  serverAdapter.setErrorHandler((err) => {
    const answer = asAdminError(err, logger, BOARD_API_PATH);
    // The board's type lists the statuses its own routes use; the adapter sends any (503 here).
    const status = answer.status as ControllerHandlerReturnType['status'];
    return { status, body: errorBody(answer.code, answer.message, answer.field) };
  });
  // The adapter's router is an express app of its own, with express's defaults.
  const board = serverAdapter.getRouter() as express.Express;
  board.disable('x-powered-by');
  dropExternalFonts(board);
  const router = express.Router();
  router.use(boardHeaders, createBoardGuards(queues, redis, retry), board);
  return router;
}
