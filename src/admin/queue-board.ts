// Bull Board at /admin/queues: the outbound queue's jobs for operators to inspect, retry, promote and
// clean, behind the admin auth like the rest of /admin. The board's actions that would bypass the
// gateway's own controls are refused (see REFUSED_ACTIONS).
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import { AdminError, sendError } from './errors.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

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

function refuseUnsafeActions(req: express.Request, res: express.Response, next: express.NextFunction): void {
  if (REFUSED_ACTIONS.some(([method, path]) => req.method === method && path.test(req.path))) {
    sendError(
      res,
      new AdminError('ADMIN_FORBIDDEN', 'This dashboard action is turned off for the mail queue; see /admin'),
    );
    return;
  }
  next();
}

export function createQueueBoard(queues: Queue[]): express.Router {
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
  const router = express.Router();
  router.use(refuseUnsafeActions, serverAdapter.getRouter() as express.Router);
  return router;
}
