// GET /metrics in Prometheus text format. Open by default (bind the HTTP role to a private
// interface); with METRICS_TOKEN set, a bearer token is required.
import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { Metrics } from '../metrics/metrics.js';

export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export function createMetricsRouter(metrics: Metrics, token: string | undefined): express.Router {
  const router = express.Router();
  router.get('/metrics', (req, res, next) => {
    if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
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
