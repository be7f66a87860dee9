// Bull Board at /admin/queues: the outbound queue's jobs for operators to inspect, retry, promote and
// clean once finished, behind the admin auth like the rest of /admin. The board's actions that would
// bypass the gateway's own controls are refused in front of it (queue-board-guards.ts).
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import { createBoardGuards } from './queue-board-guards.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

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
  // The adapter's router is an express app of its own, with express's defaults.
  const board = serverAdapter.getRouter() as express.Express;
  board.disable('x-powered-by');
  const router = express.Router();
  router.use(createBoardGuards(queues), board);
  return router;
}
