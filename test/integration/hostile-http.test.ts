// Hostile HTTP requests, one behaviour each: oversize and non-JSON bodies, nesting bombs, bodies
// that do not decompress, wrong methods, traversal on /admin and requests Node cannot parse. Every
// answer has the right status and a JSON body; nothing reaches a route it should not, and nothing
// is a 500 or a stack trace. The generated version is hostile-fuzz.test.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TEST_TOPIC_ARN } from '../helpers/sns-signer.js';
import { judgeRawHttp, sendHttp, sendRawHttp, type HttpOutcome, type HttpTarget } from '../fuzz/harness.js';

const TOKEN = 'hostile-admin-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('hostile HTTP input', () => {
  let gw: TestGateway;
  let ctx: HttpTarget;

  beforeAll(async () => {
    gw = await startGateway({
      ADMIN_TOKEN: TOKEN,
      METRICS_TOKEN: 'metrics-token',
      SNS_TOPIC_ARNS: TEST_TOPIC_ARN,
    });
    ctx = { port: gw.httpPort, agent: new http.Agent() };
  });
  afterAll(async () => {
    ctx.agent.destroy();
    await gw.stop();
  });

  /** Sends the path exactly as given (no URL normalisation, unlike fetch). */
  function request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body: string | Buffer = '',
  ): Promise<HttpOutcome & { json: { error?: { code?: string; message?: string } } }> {
    return sendHttp(ctx, {
      method,
      path,
      headers,
      body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    }).then((outcome) => {
      expect(outcome.error).toBeUndefined();
      expect(outcome.contentType).toMatch(/^application\/json/);
      return { ...outcome, json: JSON.parse(outcome.body || 'null') as never };
    });
  }

  it('answers an oversize body with 413 in JSON on the webhook and on the admin API', async () => {
    const sns = await request('POST', '/sns', {}, 'x'.repeat(600 * 1024));
    expect(sns.status).toBe(413);
    expect(sns.json.error?.code).toBe('SNS_BODY_TOO_LARGE');
    const admin = await request(
      'POST',
      '/admin/api/suppressions',
      { ...AUTH, ...JSON_TYPE },
      `"${'x'.repeat(1100 * 1024)}"`,
    );
    expect(admin.status).toBe(413);
    expect(admin.json.error?.code).toBe('ADMIN_PAYLOAD_TOO_LARGE');
  });

  it('answers a body that is not JSON with 400 (webhook, admin) or 415 (admin, wrong type)', async () => {
    expect((await request('POST', '/sns', {}, 'hello')).json.error?.code).toBe('SNS_MALFORMED');
    const bad = await request('POST', '/admin/api/queue/pause', { ...AUTH, ...JSON_TYPE }, '{"reason":');
    expect([bad.status, bad.json.error?.code]).toEqual([400, 'ADMIN_BAD_REQUEST']);
    const typed = await request(
      'POST',
      '/admin/api/queue/pause',
      { ...AUTH, 'content-type': 'text/plain' },
      'x',
    );
    expect([typed.status, typed.json.error?.code]).toEqual([415, 'ADMIN_UNSUPPORTED_MEDIA_TYPE']);
  });

  it('survives JSON nesting bombs, balanced or not, with a 4xx', async () => {
    const depth = 100_000;
    const bombs = ['['.repeat(depth) + ']'.repeat(depth), '{"a":'.repeat(depth / 2), '['.repeat(depth)];
    for (const bomb of bombs) {
      const sns = await request('POST', '/sns', {}, bomb);
      expect([sns.status, sns.json.error?.code]).toEqual([400, 'SNS_MALFORMED']);
      const admin = await request('POST', '/admin/api/suppressions', { ...AUTH, ...JSON_TYPE }, bomb);
      expect([admin.status, admin.json.error?.code]).toEqual([400, 'ADMIN_BAD_REQUEST']);
    }
    const health = await request('GET', '/healthz');
    expect(health.status).toBe(200);
  });

  it('answers a body that does not decompress or decode with 400/415, not 500', async () => {
    const garbage = Buffer.from('definitely not gzip');
    const json = await request(
      'POST',
      '/admin/api/queue/pause',
      { ...AUTH, ...JSON_TYPE, 'content-encoding': 'gzip' },
      garbage,
    );
    expect([json.status, json.json.error?.code]).toEqual([400, 'ADMIN_BAD_REQUEST']);
    // An empty gzip stream, to the queue dashboard's own body parser too.
    for (const path of ['/admin/api/queue/pause', '/admin/queues/admin?limit=-1']) {
      const empty = await request('GET', path, { ...AUTH, ...JSON_TYPE, 'content-encoding': 'gzip' }, '');
      expect([path, empty.status, empty.json.error?.code]).toEqual([path, 400, 'ADMIN_BAD_REQUEST']);
    }
    const upload = await request(
      'POST',
      '/admin/api/suppressions/import',
      { ...AUTH, 'content-encoding': 'deflate' },
      garbage,
    );
    expect([upload.status, upload.json.error?.code]).toEqual([400, 'ADMIN_BAD_REQUEST']);
    const sns = await request('POST', '/sns', { 'content-encoding': 'gzip' }, garbage);
    expect([sns.status, sns.json.error?.code]).toEqual([400, 'SNS_MALFORMED']);
    const charset = await request(
      'POST',
      '/admin/api/queue/pause',
      { ...AUTH, 'content-type': 'application/json; charset=latin9' },
      '{}',
    );
    expect([charset.status, charset.json.error?.code]).toEqual([415, 'ADMIN_UNSUPPORTED_MEDIA_TYPE']);
    const unknown = await request('POST', '/sns', { 'content-encoding': 'zz' }, '{}');
    expect([unknown.status, unknown.json.error?.code]).toEqual([415, 'SNS_UNSUPPORTED_MEDIA_TYPE']);
    expect(unknown.body).not.toContain('zz');
    // A valid gzip body still works.
    const gzipped = await request(
      'POST',
      '/admin/api/queue/pause',
      { ...AUTH, ...JSON_TYPE, 'content-encoding': 'gzip' },
      zlib.gzipSync('{"reason":"gzip"}'),
    );
    expect(gzipped.status).toBe(200);
    await request('POST', '/admin/api/queue/resume', { ...AUTH, ...JSON_TYPE }, '{}');
    expect(gw.logs.filter((line) => line.msg === 'admin.error')).toEqual([]);
  });

  it.each([
    ['POST', '/healthz', {}, 'NOT_FOUND'],
    ['DELETE', '/readyz', {}, 'NOT_FOUND'],
    ['PUT', '/metrics', {}, 'NOT_FOUND'],
    ['GET', '/sns', {}, 'NOT_FOUND'],
    ['OPTIONS', '/sns', {}, 'NOT_FOUND'],
    ['OPTIONS', '/metrics', {}, 'NOT_FOUND'],
    ['OPTIONS', '/admin/api/stats', AUTH, 'NOT_FOUND'],
    ['TRACE', '/healthz', {}, 'NOT_FOUND'],
    ['PATCH', '/admin/api/stats', AUTH, 'ADMIN_NOT_FOUND'],
    ['DELETE', '/admin', AUTH, 'ADMIN_NOT_FOUND'],
    ['PUT', '/admin/api/suppressions/export', AUTH, 'ADMIN_NOT_FOUND'],
    ['DELETE', '/admin/api/suppressions/export', AUTH, 'ADMIN_NOT_FOUND'],
    ['GET', '/admin/api/suppressions/import', AUTH, 'ADMIN_NOT_FOUND'],
    ['DELETE', '/admin/api/suppressions/import', AUTH, 'ADMIN_NOT_FOUND'],
  ])(
    'answers %s %s with a JSON 404 (a wrong method is no route), without Allow',
    async (method, path, headers, code) => {
      const res = await request(method, path, headers);
      expect(res.status).toBe(404);
      expect(res.json.error?.code).toBe(code);
      expect(res.body).not.toMatch(/GET|POST|HEAD/);
    },
  );

  const TRAVERSALS = [
    '/admin/../healthz',
    '/admin/%2e%2e/healthz',
    '/admin/%2E%2E/metrics',
    '/admin/./../readyz',
    '/admin/api/..%2f..%2fhealthz',
    '/admin/api/%2e%2e/%2e%2e/healthz',
    '/admin/queues/static/..%2f..%2f..%2fpackage.json',
    '/admin/queues/static/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/admin/queues/static/..%5c..%5c..%5cpackage.json',
    '/admin/queues/static/%c0%ae%c0%ae/package.json',
    '/admin/queues/static/..%00/package.json',
    '/admin/api%2fstats',
    '/admin%2fapi%2fstats',
    '/admin/api/stats%00',
  ];

  it.each(TRAVERSALS)('asks for credentials on %s, whatever the encoding', async (path) => {
    const res = await request('GET', path);
    expect([401, 404]).toContain(res.status);
    if (path.startsWith('/admin/')) expect(res.json.error?.code).toBe('ADMIN_UNAUTHORIZED');
  });

  it.each(TRAVERSALS)('never leaves /admin with credentials either: %s', async (path) => {
    const res = await request('GET', path, AUTH);
    expect(res.status).toBe(404);
    expect(res.body).not.toMatch(/"status":"(ok|ready)"|ses-relay|ses_relay_/);
  });

  it.each([
    ['/admin/api/suppressions/%E0%A4%A', 'path'],
    ['/admin/api/suppressions/%', 'path'],
    ['/admin/api/messages/%ZZ', 'path'],
  ])(
    'answers a path parameter that is not valid percent-encoding (%s) with 400, not 500',
    async (path, field) => {
      const res = await request('GET', path, AUTH);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        error: { code: 'ADMIN_BAD_REQUEST', message: 'path: not valid percent-encoding', field },
      });
    },
  );

  it.each([
    ['an unknown method', 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a NUL in a header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400],
    ['a control byte in the path', 'GET /hea\u0001lthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n', 400],
    ['headers over 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    [
      'broken chunked encoding',
      'POST /sns HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
      400,
    ],
    [
      'both Content-Length and chunked',
      'POST /sns HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    ['random bytes', '\u00ff\u00fe\u0000\u0001garbage\r\n\r\n', 400],
  ])('answers %s, which Node cannot parse, with a JSON %i', async (_what, bytes, status) => {
    const answer = await sendRawHttp(gw.httpPort, bytes);
    expect(judgeRawHttp(answer)).toEqual([]);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  });

  it.each([
    ['an HTTP/1.1 request without Host', 400, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'],
    [
      'an HTTP/1.1 admin request without Host',
      400,
      `GET /admin/api/stats HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`,
    ],
    [
      'an HTTP/1.1 webhook post without Host',
      400,
      'POST /sns HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    ],
    [
      'an Expect other than 100-continue',
      417,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n',
    ],
  ])('answers %s, which Node refuses after parsing it, with a JSON %i', async (_what, status, bytes) => {
    const answer = await sendRawHttp(gw.httpPort, bytes);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(judgeRawHttp(answer), JSON.stringify(answer)).toEqual([]);
  });

  it('serves an HTTP/1.0 request without Host, which needs none', async () => {
    const answer = await sendRawHttp(gw.httpPort, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"status":"ok"}');
  });

  it('answers CONNECT, which no route takes, with a JSON 404 and closes the connection', async () => {
    const answer = await sendRawHttp(
      gw.httpPort,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(judgeRawHttp(answer)).toEqual([]);
    expect(answer).toContain('{"error":{"code":"NOT_FOUND","message":"No such route"}}');
  });

  it('still serves everyone after all of the above, with nothing logged as a server fault', async () => {
    expect((await request('GET', '/healthz')).status).toBe(200);
    expect((await request('GET', '/admin/api/stats', AUTH)).status).toBe(200);
    const faults = ['http.error', 'http.stream_failed', 'admin.error', 'admin.stream_failed', 'sns.failed'];
    expect(gw.logs.filter((line) => faults.includes(line.msg))).toEqual([]);
  });
});

describe('the HTTP server error handler', () => {
  let server: HttpServer;
  let port: number;
  const logs: string[] = [];

  beforeAll(async () => {
    const logger = createLogger('debug', {
      write: (line: string) => {
        logs.push(line);
      },
    });
    server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      readiness: () => Promise.resolve({ status: 'ready', problems: [] }),
      mount(app) {
        app.post('/json', express.json({ limit: 100 }), (_req, res) => {
          res.json({ ok: true });
        });
        app.get('/throws', () => {
          throw new Error('secret internals: /srv/app/db.ts:12');
        });
        app.get('/rejects', (_req, _res, next) => {
          Promise.reject(new TypeError('boom')).catch(next);
        });
        app.get('/half', (_req, res) => {
          res.write('{"partial":');
          throw new Error('failed after the headers');
        });
        app.get('/items/:id', (req, res) => {
          res.json({ id: req.params.id });
        });
      },
    });
    port = (await server.start()).port;
  });
  afterAll(async () => {
    await server.stop();
  });

  async function get(path: string, init: RequestInit = {}) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  }

  it('answers a failing route with a JSON 500 that says nothing about the failure', async () => {
    for (const path of ['/throws', '/rejects']) {
      const res = await get(path);
      expect(res).toEqual({
        status: 500,
        type: 'application/json; charset=utf-8',
        body: '{"error":{"code":"INTERNAL","message":"Internal error"}}',
      });
    }
    expect(logs.join('')).toContain('"msg":"http.error"');
  });

  it("keeps body-parser's 400 and 413 rather than turning them into 500", async () => {
    const bad = await get('/json', { method: 'POST', headers: JSON_TYPE, body: '{"a":' });
    expect([bad.status, bad.body]).toEqual([400, '{"error":{"code":"BAD_REQUEST","message":"Bad Request"}}']);
    const big = await get('/json', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ a: 'x'.repeat(200) }),
    });
    expect([big.status, JSON.parse(big.body)]).toEqual([
      413,
      { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Payload Too Large' } },
    ]);
    const charset = await get('/json', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: '{}',
    });
    expect([charset.status, JSON.parse(charset.body)]).toEqual([
      415,
      { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported Media Type' } },
    ]);
  });

  it('answers a path parameter that is not valid percent-encoding with 400', async () => {
    const res = await get('/items/%E0%A4%A');
    expect([res.status, JSON.parse(res.body)]).toEqual([
      400,
      { error: { code: 'BAD_REQUEST', message: 'Bad Request' } },
    ]);
  });

  it('cuts the connection when a route fails after its headers went out', async () => {
    await expect(get('/half')).rejects.toThrow();
    expect(logs.join('')).toContain('"msg":"http.stream_failed"');
    expect((await get('/healthz')).status).toBe(200);
  });

  it('never renders express’s HTML error page or a stack trace', async () => {
    const address = server.server.address() as AddressInfo;
    expect(address.port).toBe(port);
    for (const path of ['/throws', '/rejects', '/items/%', '/nowhere']) {
      const res = await get(path);
      expect(res.type).toMatch(/^application\/json/);
      expect(res.body).not.toMatch(/<pre>|\bat .+:\d+:\d+|secret internals|boom/);
    }
  });
});
