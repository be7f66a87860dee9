// GET /metrics in Prometheus text format. Open by default (bind the HTTP role to a private
// interface); with METRICS_TOKEN set, a bearer token is required, read as /admin reads its own.
import express from 'express';
import type { Metrics } from '../metrics/metrics.js';
import { createBearerCheck } from './authorization.js';

export function createMetricsRouter(metrics: Metrics, token: string | undefined): express.Router {
  const router = express.Router();
  const authorized = token === undefined ? () => true : createBearerCheck(token);
  router.get('/metrics', (req, res, next) => {
    if (!authorized(req.headers.authorization)) {
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer')
        .json({ error: { code: 'UNAUTHORIZED', message: 'Bearer token required' } });
      return;
    }
    metrics
      .render()
      .then((text) => res.type(metrics.registry.contentType).send(text))
      .catch(next);
  });
  return router;
}
