// The checks that run in front of Bull Board on the mail queue: the board actions the gateway
// refuses, state changes in a form encoding (as the admin API refuses them), the clean actions it
// limits to finished jobs (cleaning one job itself, atomically), the retries of failed jobs it does
// itself as the CLI and admin API do them (whole retry schedule, fresh queue lifetime, bytes kept),
// the retries of completed ones it refuses, and the request parsing it does itself so that a malformed request answers in the admin
// API's error shape (the board's own parser and router answer in theirs, quoting the request back).
import type { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import { retryFailed, retryFailedJob, type RetryOptions } from '../ops/index.js';
import { refuseFormBodies } from './body-types.js';
import { AdminError } from './errors.js';
import { removeFinishedJob } from './finished-job-removal.js';

/** Bull Board's own JSON body limit (body-parser's default); its parser then finds the body read. */
const BOARD_JSON_LIMIT_BYTES = 100 * 1024;

/** Job states whose jobs are done with: removing them loses no mail. */
const CLEANABLE_STATES: ReadonlySet<string> = new Set(['completed', 'failed']);

/**
 * Board actions refused on a mail queue, by method and path under the board:
 * - pause/resume: would stop sending with no reason in the shared hold, hidden from /readyz and the
 *   metrics; the admin page and API pause through the hold instead;
 * - add and update-data: a job's data is an envelope, so these would send mail nobody submitted or
 *   change who a message goes to;
 * - empty and obliterate: would silently drop every queued message;
 * - concurrency and rate-limit: would fight the pacer, which owns the send rate.
 * Case-insensitive, as Express routes are.
 */
const REFUSED_ACTIONS: [method: string, path: RegExp][] = [
  ['PUT', /^\/api\/queues\/(pause|resume)\/?$/i],
  ['PUT', /^\/api\/queues\/[^/]+\/(pause|resume|empty|obliterate|concurrency|rate-limit(\/release)?)\/?$/i],
  ['POST', /^\/api\/queues\/[^/]+\/add\/?$/i],
  ['PATCH', /^\/api\/queues\/[^/]+\/[^/]+\/update-data\/?$/i],
];

function forbidden(message: string): AdminError {
  return new AdminError('ADMIN_FORBIDDEN', message);
}

function refuseUnsafeActions(req: express.Request, _res: express.Response, next: express.NextFunction): void {
  if (REFUSED_ACTIONS.some(([method, path]) => req.method === method && path.test(req.path))) {
    next(forbidden('This dashboard action is turned off for the mail queue; see /admin'));
    return;
  }
  next();
}

/**
 * The board's router would fail to decode such a path parameter and answer with the raw text; the
 * same rule as the admin API's, checked on the whole path since `/` is never part of an escape.
 */
function refuseUndecodablePath(
  req: express.Request,
  _res: express.Response,
  next: express.NextFunction,
): void {
  try {
    decodeURIComponent(req.path);
  } catch {
    next(new AdminError('ADMIN_BAD_REQUEST', 'path: not valid percent-encoding', { field: 'path' }));
    return;
  }
  next();
}

const CLEAN_REFUSED = 'Only completed and failed jobs can be cleaned from the mail queue';
/**
 * A completed job's message was delivered, and delivery deleted its bytes and the record of which
 * recipients SES accepted: a rerun could only fail (RAW_MESSAGE_MISSING), never resend.
 */
const RETRY_REFUSED =
  'Completed jobs cannot be retried: the message was delivered and its bytes are gone. To send it again, submit it again';

/** The queue a board route names, or undefined (then the board answers its own 404). */
function queueNamed(queues: Queue[], name: string | undefined): Queue | undefined {
  return queues.find((candidate) => candidate.name === name);
}

/**
 * Routes matched exactly as the board's own (same router, same paths), so no spelling slips past.
 * A whole state is cleaned by the board (BullMQ cleans a set in one script); one job is cleaned
 * here, never by the board, whose state check and removal are round trips apart.
 */
function guardCleaning(router: express.Router, queues: Queue[], redis: Redis): void {
  router.put('/api/queues/:queueName/clean/:queueStatus', (req, _res, next) => {
    next(CLEANABLE_STATES.has(req.params.queueStatus) ? undefined : forbidden(CLEAN_REFUSED));
  });
  router.put('/api/queues/:queueName/:jobId/clean', (req, res, next) => {
    const queue = queueNamed(queues, req.params.queueName);
    // An unknown queue is the board's to answer (404).
    if (!queue) return next();
    removeFinishedJob(redis, queue, req.params.jobId)
      .then((outcome) => {
        if (outcome === 'removed') res.status(204).end();
        else if (outcome === 'unfinished') next(forbidden(CLEAN_REFUSED));
        else next(new AdminError('ADMIN_NOT_FOUND', 'No such job'));
      })
      .catch(next);
  });
}

/**
 * Retries of failed jobs only: the board would also rerun completed ones, all at once or by job. A
 * failed job is retried here, as `queue retry-failed` does it: the board's own retry keeps the used
 * attempts and the original queue lifetime, so a message that failed for outliving QUEUE_MAX_AGE
 * would fail again at once, and its bytes would still expire with the failed job. The answers are
 * the board's own (200 with the counts, 204 for one job).
 */
function guardRetries(router: express.Router, queues: Queue[], retry: RetryOptions): void {
  router.put('/api/queues/:queueName/retry/:queueStatus', (req, res, next) => {
    const status = req.params.queueStatus.toLowerCase();
    if (status === 'completed') return next(forbidden(RETRY_REFUSED));
    const queue = queueNamed(queues, req.params.queueName);
    if (!queue || status !== 'failed') return next();
    retryFailed(queue, retry)
      .then((result) => res.status(200).json(result))
      .catch(next);
  });
  router.put('/api/queues/:queueName/:jobId/retry', (req, res, next) => {
    const queue = queueNamed(queues, req.params.queueName);
    if (!queue) return next();
    const { jobId } = req.params;
    queue
      .getJobState(jobId)
      .then(async (state) => {
        if (state === 'completed') return next(forbidden(RETRY_REFUSED));
        // Any other state is the board's to answer (not retriable, unknown job).
        if (state !== 'failed') return next();
        await retryFailedJob(queue, jobId, retry.bytes);
        res.status(204).end();
      })
      .catch(next);
  });
}

export function createBoardGuards(queues: Queue[], redis: Redis, retry: RetryOptions = {}): express.Router {
  const router = express.Router();
  router.use(refuseUnsafeActions, refuseFormBodies);
  router.use('/api', refuseUndecodablePath, express.json({ limit: BOARD_JSON_LIMIT_BYTES }));
  guardCleaning(router, queues, redis);
  guardRetries(router, queues, retry);
  return router;
}
