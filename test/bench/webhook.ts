// Webhook benchmark: signed SES bounces POSTed to /sns over HTTP by 50 concurrent keep-alive
// connections (wrk when available, see test/bench/tools/fetch.sh; else a Node client) and applied end to end (signature with a cached certificate, topic check, policy, the real
// suppression store, ledger commit) on a private redis-server; then the same messages again (the
// duplicate path). The server runs in a child process (this file, WEBHOOK_BENCH_ROLE=server) so the
// load generator does not share its event loop. For context, the same child also answers a no-op
// POST on the bare Node server (the HTTP ceiling on this machine right now), and the handler is
// measured in-process without HTTP (what an SQS poller would cost). CPU per notification is printed
// because it holds on a busy machine; the rate does not. Run: npx tsx test/bench/webhook.ts
import http from 'node:http';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/shared/logger.js';
import { coalesceRedisWrites } from '../../src/shared/write-coalescing.js';
import { createSuppressionStore } from '../../src/suppression/index.js';
import {
  createFeedbackKeys,
  createSnsFastPath,
  createSnsRouter,
  createSnsWebhook,
  readDailyStats,
} from '../../src/webhook/index.js';
import { freePort, startPrivateRedis } from '../helpers/redis.js';
import {
  createSnsSigner,
  sesFixture,
  snsHeaders,
  TEST_TOPIC_ARN,
  type SnsSigner,
} from '../helpers/sns-signer.js';
import { findLoadTool } from './lib/load-tools.js';
import { startChild } from './lib/processes.js';
import { runWrk } from './lib/wrk.js';
import { printTable, type BenchRow } from './table.js';

const CLIENTS = 50;
const WRK = findLoadTool('wrk');
/** wrk costs little CPU, so it gets enough messages for a few seconds at the target rate. */
const MESSAGES = WRK ? 20_000 : 4000;
const WARMUP_MESSAGES = WRK ? 2000 : 500;
/** Each measured run stops here even if requests remain: a bench must end. */
const RUN_DEADLINE_MS = 30_000;

type Request = { body: string; headers: Record<string, string> };

interface LoadResult {
  perSecond: number;
  count: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

interface Usage {
  serverCpuUs: number;
  redisCpuUs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function post(agent: http.Agent, port: number, path: string, request: Request): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, method: 'POST', agent, headers: request.headers };
    const req = http.request(options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

/** A closed loop: each of the clients sends its next request when the previous one is answered. */
async function closedLoop(
  requests: Request[],
  send: (request: Request) => Promise<number>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + RUN_DEADLINE_MS;
  const client = async () => {
    while (next < requests.length && performance.now() < deadline) {
      const request = requests[next++]!;
      const sent = performance.now();
      const status = await send(request).catch(() => 0);
      latenciesMs.push(performance.now() - sent);
      if (status !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const elapsedS = (performance.now() - started) / 1000;
  latenciesMs.sort((a, b) => a - b);
  return {
    perSecond: latenciesMs.length / elapsedS,
    count: latenciesMs.length,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    failed,
  };
}

async function overHttp(port: number, requests: Request[], path = '/sns'): Promise<LoadResult> {
  if (WRK) {
    const bodies = requests.map((request) => request.body);
    const result = await runWrk(WRK, {
      url: `http://127.0.0.1:${port}${path}`,
      bodies,
      connections: CLIENTS,
    });
    return { ...result, count: result.requests };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    return await closedLoop(requests, (request) => post(agent, port, path, request));
  } finally {
    agent.destroy();
  }
}

async function usage(port: number | undefined, redis: Redis): Promise<Usage> {
  let serverCpuUs: number;
  if (port === undefined) {
    const cpu = process.cpuUsage();
    serverCpuUs = cpu.user + cpu.system;
  } else {
    const response = await fetch(`http://127.0.0.1:${port}/bench/usage`);
    serverCpuUs = ((await response.json()) as { cpuUs: number }).cpuUs;
  }
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return { serverCpuUs, redisCpuUs: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6 };
}

function row(name: string, result: LoadResult, before: Usage, after: Usage, note = ''): BenchRow {
  const serverUs = (after.serverCpuUs - before.serverCpuUs) / result.count;
  const redisUs = (after.redisCpuUs - before.redisCpuUs) / result.count;
  return {
    bench: 'webhook',
    case: name,
    value: `${Math.round(result.perSecond)}/s`,
    detail:
      `p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.count} requests, ` +
      `failed ${result.failed}; CPU each: Node ${Math.round(serverUs)} µs, Redis ${Math.round(redisUs)} µs${note}`,
  };
}

/**
 * The figure is "applied", not "answered": every 200 must show in Redis's daily counter. (wrk stops
 * counting at its last awaited answer while a few requests are still in flight; those are applied
 * too, so the counter may be ahead by up to a connection's worth per run.)
 */
async function countedCheck(redis: Redis, prefix: string, result: LoadResult): Promise<string> {
  const expected = WARMUP_MESSAGES + result.count - result.failed;
  const [today] = await readDailyStats(redis, createFeedbackKeys(prefix), Date.now(), Date.now());
  const counted = today?.counts.bounced_hard ?? 0;
  return counted >= expected && counted <= expected + 2 * CLIENTS
    ? ''
    : ` (Redis counted ${counted} of ${expected}!)`;
}

/** Runs one load between two CPU samples; `check` adds a note once the run is over. */
async function measure(
  name: string,
  sample: () => Promise<Usage>,
  run: () => Promise<LoadResult>,
  check: (result: LoadResult) => Promise<string> = () => Promise.resolve(''),
): Promise<BenchRow> {
  const before = await sample();
  const result = await run();
  return row(name, result, before, await sample(), await check(result));
}

async function measureHttp(signer: SnsSigner, redisUrl: string, requests: Request[]): Promise<BenchRow[]> {
  const prefix = 'bench-http';
  const port = await freePort();
  const server = await startChild(
    ['test/bench/webhook.ts'],
    {
      WEBHOOK_BENCH_ROLE: 'server',
      ...{ PORT: String(port), PREFIX: prefix, REDIS_URL: redisUrl, LOG_LEVEL: 'info' },
      ...{ CERT_PEM: signer.certificate.certPem, CERT_URL: signer.certUrl },
    },
    'webhook-bench-ready',
  );
  const redis = new Redis(redisUrl);
  const sample = () => usage(port, redis);
  const measured = requests.slice(WARMUP_MESSAGES);
  try {
    await overHttp(port, requests.slice(0, WARMUP_MESSAGES));
    const noop = () => overHttp(port, measured, '/bench/noop');
    const sns = () => overHttp(port, measured);
    const by = WRK ? 'wrk' : 'Node client';
    return [
      await measure(`no-op POST on the bare server (HTTP ceiling now, ${by})`, sample, noop),
      await measure(`signed bounce applied over HTTP (${by})`, sample, sns, (r) =>
        countedCheck(redis, prefix, r),
      ),
      await measure(`same messages redelivered (duplicates, ${by})`, sample, sns),
    ];
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

async function measureInProcess(signer: SnsSigner, redisUrl: string, requests: Request[]): Promise<BenchRow> {
  const prefix = 'bench-inprocess';
  const redis = new Redis(redisUrl);
  const webhook = createSnsWebhook({
    redis,
    prefix,
    store: createSuppressionStore({ redis, prefix }),
    logger: createLogger('info', { write: () => undefined }),
    topicArns: [TEST_TOPIC_ARN],
    fetchCertificate: signer.fetchCertificate,
  });
  const send = async (request: Request) =>
    (await webhook.handleSnsBody(request.body, request.headers)).status;
  try {
    await closedLoop(requests.slice(0, WARMUP_MESSAGES), send);
    const run = () => closedLoop(requests.slice(WARMUP_MESSAGES), send);
    return await measure(
      'signed bounce applied in-process (no HTTP)',
      () => usage(undefined, redis),
      run,
      (r) => countedCheck(redis, prefix, r),
    );
  } finally {
    redis.disconnect();
  }
}

export async function runWebhookBench(): Promise<BenchRow[]> {
  const redisServer = await startPrivateRedis();
  try {
    const signer = await createSnsSigner();
    // Signing costs ~1 ms per message, so it happens before any clock starts. Each run uses its own
    // key prefix, so the same signed messages are new to it.
    const requests = Array.from({ length: WARMUP_MESSAGES + MESSAGES }, (_, i) => {
      const event = sesFixture('bounce-permanent') as { bounce: Record<string, unknown> };
      event.bounce.bouncedRecipients = [
        { emailAddress: `bench-${i}@example.com`, diagnosticCode: 'smtp; 550 5.1.1' },
      ];
      const message = signer.notification(event);
      return { body: JSON.stringify(message), headers: snsHeaders(message) };
    });
    const loadBefore = os.loadavg()[0]!.toFixed(1);
    const rows = [
      ...(await measureHttp(signer, redisServer.url, requests)),
      await measureInProcess(signer, redisServer.url, requests),
    ];
    const machine = `${os.cpus().length} CPUs, load average ${loadBefore} → ${os.loadavg()[0]!.toFixed(1)}`;
    rows.push({
      bench: 'webhook',
      case: 'machine',
      value: '',
      detail: `${machine}; ${CLIENTS} clients, keep-alive`,
    });
    return rows;
  } finally {
    await redisServer.stop();
  }
}

/** Child role: the SNS router on its own express app, as the HTTP role mounts it. */
function serve(): Promise<void> {
  const env = (name: string) => process.env[name] ?? '';
  const logger = createLogger(env('LOG_LEVEL') as 'info');
  const redis = new Redis(env('REDIS_URL'));
  coalesceRedisWrites(redis);
  const prefix = env('PREFIX');
  const certUrl = env('CERT_URL');
  const webhook = createSnsWebhook({
    redis,
    prefix,
    store: createSuppressionStore({ redis, prefix }),
    logger,
    topicArns: [TEST_TOPIC_ARN],
    fetchCertificate: (url) =>
      url.href === certUrl ? Promise.resolve(env('CERT_PEM')) : Promise.reject(new Error('unknown cert')),
  });
  const app = express();
  app.use(createSnsRouter({ webhook, logger }));
  const fastPath = createSnsFastPath({ webhook, logger });
  const noop = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url !== '/bench/noop') return false;
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ status: 'applied' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    });
    return true;
  };
  app.get('/bench/usage', (_req, res) => {
    const cpu = process.cpuUsage();
    res.json({ cpuUs: cpu.user + cpu.system });
  });
  return new Promise((resolve) => {
    http
      .createServer((req, res) => {
        if (!noop(req, res) && !fastPath(req, res)) void app(req, res);
      })
      .listen(Number(env('PORT')), '127.0.0.1', () => {
        console.log('webhook-bench-ready');
        resolve();
      });
  });
}

const direct = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (direct && process.env.WEBHOOK_BENCH_ROLE === 'server') {
  await serve();
} else if (direct) {
  printTable(await runWebhookBench());
  process.exit(0);
}
