// The HTTP server of the HTTP role: health and readiness, plus whatever routers the role mounts
// (metrics, SNS webhook, admin). Every error answers with a JSON body.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from '../shared/logger.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Resolves to a list of problems; empty means ready. */
  readiness(): Promise<string[]>;
  /** Adds routes before the 404 and error handlers. */
  mount?(app: express.Express): void;
  /** Serves HTTPS with these TLS options (key, cert, SNICallback…) instead of plain HTTP. */
  tls?: https.ServerOptions | undefined;
}

export interface HttpServer {
  start(): Promise<AddressInfo>;
  stop(): Promise<void>;
  /** The underlying server, e.g. to swap TLS material after a certificate reload. */
  readonly server: http.Server | https.Server;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res, next) => {
    options
      .readiness()
      .then((problems) => {
        res
          .status(problems.length === 0 ? 200 : 503)
          .json({ status: problems.length === 0 ? 'ready' : 'not-ready', problems });
      })
      .catch(next);
  });

  options.mount?.(app);

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'No such route' } });
  });

  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    options.logger.error({ err: err.message }, 'http.error');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error' } });
  });

  const server = options.tls ? https.createServer(options.tls, app) : http.createServer(app);

  return {
    server,
    start() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    stop() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
