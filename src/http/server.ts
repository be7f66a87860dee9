// The HTTP server of the HTTP role: health and readiness, plus whatever routers the role mounts
// (metrics, SNS webhook, admin). Every answer that is not a page or a scrape is JSON, errors
// included: a wrong method is a 404 like an unknown path, a client's mistake keeps its 4xx, anything
// else is a 500 without details, and even requests Node cannot parse or refuses (no Host, an
// unknown Expect) get a JSON 4xx. Stopping waits on no client for more than a short grace (stop()).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/** Stable codes for the statuses this server answers itself; other 4xx fall back to BAD_REQUEST. */
const ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  417: 'EXPECTATION_FAILED',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL',
};

function errorBody(status: number, message?: string) {
  return {
    error: {
      code: ERROR_CODES[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL'),
      // Fixed texts only: an error's own message may quote the request (or worse) back.
      message: message ?? (status === 500 ? 'Internal error' : (http.STATUS_CODES[status] ?? 'Bad request')),
    },
  };
}

function notFound(_req: express.Request, res: express.Response): void {
  res.status(404).json(errorBody(404, 'No such route'));
}

/**
 * The 4xx of an error raised about the request itself (body-parser: bad JSON, too large, bad
 * encoding; the router: a path parameter that is not valid percent-encoding). These carry `status`
 * and `expose` (the http-errors convention); they are the client's fault, not a 500.
 */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}

/**
 * Requests Node's parser refuses (bad request line, header overflow, broken chunking) never reach
 * express; Node's own answer has no body. Same statuses as Node's, with a JSON body.
 */
function answerUnparsable(err: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node's own handler: nothing to say on a dead socket or in the middle of another answer.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET' || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? 413
          : 400;
  answerAndClose(socket, status);
}

/** Writes a JSON error straight to a socket that express never sees, then closes it. */
function answerAndClose(socket: Duplex, status: number, message?: string): void {
  const body = JSON.stringify(errorBody(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // The server allows half-open sockets; once the answer is out, nothing more is read from this one.
  socket.once('finish', () => socket.destroy());
}

/**
 * RFC 9112 3.2: an HTTP/1.1 request without Host is a 400. Node's own check answers it without a
 * body (so it is turned off, requireHostHeader: false, and made here); HTTP/1.0 needs no Host.
 */
function refuseMissingHost(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.httpVersion !== '1.1' || req.headers.host !== undefined) return false;
  res.setHeader('Connection', 'close');
  sendJsonError(res, 400, 'Host header required');
  return true;
}

/** Writes a JSON error on a response express never saw. */
function sendJsonError(res: http.ServerResponse, status: number, message: string): void {
  const body = JSON.stringify(errorBody(status, message));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** How long stop() lets requests in progress finish before it cuts their connections. */
export const STOP_GRACE_MS = 3000;

/** `starting` until every role has started, `draining` from the moment shutdown begins. */
export interface Readiness {
  status: 'ready' | 'not-ready' | 'starting' | 'draining';
  problems: string[];
}

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** What GET /readyz answers: 200 when ready, 503 with the problems otherwise. */
  readiness(): Promise<Readiness>;
  /** Adds routes before the 404 and error handlers. */
  mount?(app: express.Express): void;
  /**
   * Handlers tried before express, in order, for hot endpoints that need none of its machinery; each
   * returns true when it took the request. Express costs ~190 µs of CPU per request here, a bare
   * Node handler ~30 µs.
   */
  fastPaths?: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean)[];
  /** Serves HTTPS with these TLS options (key, cert, SNICallback…) instead of plain HTTP. */
  tls?: https.ServerOptions | undefined;
}

export interface HttpServer {
  start(): Promise<AddressInfo>;
  /**
   * Stops listening and closes every connection: idle ones at once, the others as their answer
   * ends, and whatever is left (a download that stalled, a request sent half-way) after `graceMs`.
   */
  stop(graceMs?: number): Promise<void>;
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
      .then((readiness) => {
        res.status(readiness.status === 'ready' ? 200 : 503).json(readiness);
      })
      .catch(next);
  });

  // Express would answer OPTIONS itself with a text/plain list of methods; there is no CORS here,
  // so OPTIONS is a method no route takes, answered like any other: 404 in JSON.
  app.use((req, res, next) => {
    if (req.method === 'OPTIONS') notFound(req, res);
    else next();
  });

  options.mount?.(app);

  app.use(notFound);

  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (res.headersSent) {
      // Half an answer is out; cutting the connection is the only way left to say it failed.
      options.logger.error({ err: errorMessage(err), path: req.path }, 'http.stream_failed');
      res.destroy();
      return;
    }
    const status = clientErrorStatus(err);
    if (status === undefined) {
      options.logger.error({ err: errorMessage(err), path: req.path }, 'http.error');
      res.status(500).json(errorBody(500));
    } else {
      options.logger.warn({ err: errorMessage(err), status, path: req.path }, 'http.refused');
      res.status(status).json(errorBody(status));
    }
  });

  const fastPaths = options.fastPaths ?? [];
  let stopping = false;
  // A keep-alive connection is never idle while its client keeps sending: once stopping, every
  // answer closes its connection, and each connection left idle by an answer is closed at once.
  const afterAnswer = () => {
    if (stopping) server.closeIdleConnections();
  };
  const closeWhenStopping = (res: http.ServerResponse) => {
    res.once('finish', afterAnswer);
    if (stopping) res.setHeader('Connection', 'close');
  };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    closeWhenStopping(res);
    if (refuseMissingHost(req, res)) return;
    for (const fastPath of fastPaths) if (fastPath(req, res)) return;
    app(req, res);
  };
  const serverOptions: http.ServerOptions = { requireHostHeader: false };
  const server = options.tls
    ? https.createServer({ ...options.tls, ...serverOptions }, handle)
    : http.createServer(serverOptions, handle);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerUnparsable(err, socket));
  // Expect: 100-continue is Node's to answer; any other expectation is one this server cannot meet.
  server.on('checkExpectation', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    closeWhenStopping(res);
    sendJsonError(res, 417, 'Only 100-continue is supported in Expect');
  });
  // CONNECT (a proxy tunnel) goes to this event, not to the request handler; with no listener Node
  // closes the socket without a word. No route takes it: the same JSON 404 as any other wrong method.
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    answerAndClose(socket, 404, 'No such route');
  });

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
    stop(graceMs = STOP_GRACE_MS) {
      stopping = true;
      return new Promise((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
