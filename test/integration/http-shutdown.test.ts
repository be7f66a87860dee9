// The HTTP role stops promptly when the gateway shuts down, whatever its clients do: a download
// that stalled, a request sent half-way (slowloris, a dead peer) or a keep-alive client that never
// leaves its connection idle must not hold app.stop() until main.ts's overrun timer ends the
// process (exit 1, Redis never closed politely).
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer, STOP_GRACE_MS, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { startGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

/** The test gateway's SHUTDOWN_TIMEOUT is 5 s; the HTTP role has no transaction to wait for at all. */
const STOP_BOUND_MS = 8000;
const TOKEN = 'http-shutdown-token';

/** Resolves 'stopped' when stop() finishes, or 'hung' once the bound has passed. */
async function stopWithin(stop: () => Promise<void>, ms: number): Promise<'stopped' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    return await Promise.race([stop().then(() => 'stopped' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('HTTP role shutdown', () => {
  let ses: FakeSes;
  beforeAll(async () => {
    ses = await startFakeSes();
  });
  afterAll(async () => {
    await ses.stop();
  });

  it('stops while a client is downloading the suppression export and has stopped reading', async () => {
    const gw = await startGateway({ ROLES: 'http', ADMIN_TOKEN: TOKEN }, { ses });
    const socket = new net.Socket();
    socket.on('error', () => undefined);
    try {
      // A list larger than the socket buffers can hold: the export then waits for 'drain'.
      const lines = Array.from({ length: 300_000 }, (_, i) => `user${i}@example${i % 997}.net`).join('\n');
      const imported = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/suppressions/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
        body: lines,
      });
      expect(imported.status).toBe(200);
      // An operator's download that stalls (a laptop lid closed, a proxy buffer full).
      await new Promise<void>((resolve) => socket.connect(gw.httpPort, '127.0.0.1', resolve));
      socket.write(
        `GET /admin/api/suppressions/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
      );
      const first = await new Promise<string>((resolve) =>
        socket.once('data', (d: Buffer) => resolve(d.toString())),
      );
      expect(first).toMatch(/^HTTP\/1\.1 200 /);
      socket.pause();
      const outcome = await stopWithin(() => gw.app.stop(), STOP_BOUND_MS);
      expect(outcome, 'app.stop() with a stalled export download').toBe('stopped');
    } finally {
      socket.destroy();
      await gw.stop();
    }
  });

  it('stops while a client has sent only part of its request headers', async () => {
    const gw = await startGateway({ ROLES: 'http' }, { ses });
    const socket = net.connect(gw.httpPort, '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      // Headers never finished: Node only times this out after headersTimeout (60 s), longer than
      // SHUTDOWN_TIMEOUT plus main.ts's 15 s margin with the default settings.
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      // The server has the connection once /healthz answers on another one.
      await waitFor(async () => (await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`)).ok);
      const outcome = await stopWithin(() => gw.app.stop(), STOP_BOUND_MS);
      expect(outcome, 'app.stop() with a half-sent request open').toBe('stopped');
    } finally {
      socket.destroy();
      await gw.stop();
    }
  });
});

describe("the HTTP server's stop()", () => {
  let server: HttpServer;
  let port: number;
  /** /slow answers once the test opens its gate; `entered` resolves when it has the request. */
  let entered: Promise<void>;
  let openGate: () => void;
  /** Resolves when /next has been asked for. */
  let nextAsked: Promise<void>;

  beforeEach(async () => {
    let enter!: () => void;
    entered = new Promise((resolve) => (enter = resolve));
    let askNext!: () => void;
    nextAsked = new Promise((resolve) => (askNext = resolve));
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger('silent'),
      readiness: () => Promise.resolve({ status: 'ready', problems: [] }),
      mount(app) {
        app.get('/slow', (_req, res, next) => {
          enter();
          gate.then(() => res.json({ slow: true }), next);
        });
        app.get('/next', (_req, res) => {
          askNext();
          res.json({ next: true });
        });
      },
    });
    port = (await server.start()).port;
  });
  afterEach(async () => {
    openGate();
    await server.stop(0);
  });

  it('closes a keep-alive connection busy when stop() began once its answer ends, though its client sends back to back', async () => {
    // One connection, reused for every request: between two of them it is idle only for an instant.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<boolean>((resolve) => {
        http
          .get({ host: '127.0.0.1', port, path, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(true));
          })
          .on('error', () => resolve(false));
      });
    try {
      const slow = get('/slow');
      await entered;
      let stopped = false;
      // A grace far longer than the bound: only closing the connection after its answer passes.
      const stopping = server.stop(60_000).then(() => (stopped = true));
      openGate();
      expect(await slow).toBe(true);
      const started = Date.now();
      // Until refused, or for as long as stop() does not finish.
      while (!stopped && Date.now() - started < STOP_BOUND_MS && (await get('/healthz')));
      await stopWithin(() => stopping.then(() => undefined), STOP_BOUND_MS - (Date.now() - started));
      expect(stopped, 'stop() finished').toBe(true);
      expect(Date.now() - started).toBeLessThan(STOP_GRACE_MS);
    } finally {
      agent.destroy();
    }
  });

  it('answers a request that arrives while stopping with Connection: close, then closes the connection', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answers = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answers += chunk));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    try {
      socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      await entered;
      const stopping = server.stop(60_000);
      // Sent behind the request being answered, on the same connection (pipelined).
      socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
      await nextAsked;
      openGate();
      expect(await stopWithin(() => stopping, STOP_BOUND_MS)).toBe('stopped');
      await closed;
      const [first, second] = answers.split(/(?=HTTP\/1\.1 )/);
      expect(first).toMatch(/^HTTP\/1\.1 200 [\s\S]*\{"slow":true\}$/);
      expect(second).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\nConnection: close\r\n[\s\S]*\{"next":true\}$/i);
    } finally {
      socket.destroy();
    }
  });
});
