// /admin/api for running the gateway: message lookup, the stats object, and queue control (pause and
// resume through the shared hold, retry failed jobs). The work is done by the src/ops services.
import type { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import {
  lookupMessage,
  pauseSending,
  readStats,
  resumeSending,
  retryFailed,
  type RetryOptions,
} from '../ops/index.js';
import type { SendingHolds } from '../queue/holds.js';
import type { Logger } from '../shared/logger.js';
import type { SuppressionStore } from '../suppression/store.js';
import type { TraceStore } from '../trace/trace-store.js';
import { AdminError } from './errors.js';
import { principalOf } from './principal.js';
import { emptyBody, messageParams, parseInput, pauseBody, retryBody, statsQuery } from './validation.js';

export interface OperationsDeps {
  redis: Redis;
  prefix: string;
  queue: Queue;
  holds: SendingHolds;
  suppression: SuppressionStore;
  trace: TraceStore;
  logger: Logger;
  /** How failed messages are retried (their bytes kept as at intake). */
  retry?: RetryOptions;
}

export function createOperationsApi(deps: OperationsDeps): express.Router {
  const api = express.Router();
  const { logger } = deps;

  api.get('/messages/:id', async (req, res) => {
    const { id } = parseInput(messageParams, req.params, 'params');
    const message = await lookupMessage(deps, id);
    if (!message)
      throw new AdminError('ADMIN_NOT_FOUND', 'no message with that id is traced', { field: 'id' });
    res.json(message);
  });

  api.get('/stats', async (req, res) => {
    const { days } = parseInput(statsQuery, req.query, 'query');
    res.json(await readStats(deps, { days }));
  });

  api.post('/queue/pause', async (req, res) => {
    const { reason } = parseInput(pauseBody, req.body, 'body');
    const result = await pauseSending(deps.holds, reason);
    // Warn: an operator hold stops all delivery until someone resumes it.
    logger.warn({ by: principalOf(res), reason, fresh: result.fresh }, 'admin.paused');
    res.json(result);
  });

  api.post('/queue/resume', async (req, res) => {
    parseInput(emptyBody, req.body, 'body');
    const result = await resumeSending(deps.holds);
    logger.warn({ by: principalOf(res), previous: result.previous }, 'admin.resumed');
    res.json(result);
  });

  api.post('/queue/retry-failed', async (req, res) => {
    const { limit } = parseInput(retryBody, req.body, 'body');
    const result = await retryFailed(deps.queue, {
      ...deps.retry,
      ...(limit === undefined ? {} : { limit }),
    });
    logger.info({ by: principalOf(res), ...result, limit }, 'admin.retried_failed');
    res.json(result);
  });

  return api;
}
