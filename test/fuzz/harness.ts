// Drives the fuzz plans from generators.ts against a running gateway and judges the answers: raw
// SMTP sessions (every reply line well-formed, the session ends), HTTP requests (a status in
// 200–599, JSON unless a page or a scrape, no stack trace, no 500), plus what the whole run must
// keep: no unhandled rejection, heap back near its baseline, every accepted message delivered.
import http from 'node:http';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Redis } from 'ioredis';
import type { SendJobResult } from '../../src/queue/job.js';
import { createOutboundQueue } from '../../src/queue/outbound.js';
import { createKeys } from '../../src/shared/keys.js';
import { createLogger } from '../../src/shared/logger.js';
import type { FakeSes } from '../helpers/fake-ses.js';
import { sesFixture, snsHeaders, type SnsSigner } from '../helpers/sns-signer.js';
import { waitFor } from '../helpers/wait.js';
import type { HttpRequestPlan, SignedEventPlan, SmtpSessionPlan } from './generators.js';

/** FUZZ_RUNS: fast-check runs per property (each run is a batch of sessions or requests). */
export function fuzzRuns(fallback: number): number {
  const value = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** FUZZ_SEED: a fixed seed unless told otherwise ("random" picks one and prints it). */
export function fuzzSeed(fallback: number): number {
  const given = process.env.FUZZ_SEED;
  if (given === 'random') {
    const seed = Date.now() % 2 ** 31;
    console.log(`FUZZ_SEED=${seed}`);
    return seed;
  }
  const value = Number(given);
  return given !== undefined && Number.isInteger(value) ? value : fallback;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

// ---------------------------------------------------------------------------------------------
// SMTP

/** A reply line: three digits, a space or hyphen, printable ASCII. */
export const REPLY_LINE = /^[2-5]\d\d[ -][\x20-\x7e]*$/;
/** Ends whatever state the session is in: a DATA stream, an AUTH exchange, a command line. */
const SESSION_TRAILER = '\r\n.\r\nQUIT\r\n';
/** In lock-step sessions, how long to wait for the reply to one write before sending the next. */
const STEP_WAIT_MS = 10;

export interface SmtpTranscript {
  /** Reply lines, without CRLF. */
  lines: string[];
  /** Lines that are not well-formed replies, and any unterminated tail. */
  bad: string[];
  /** Queue ids from 250 replies. */
  queued: string[];
  /** The server did not close the session within the deadline after QUIT. */
  hung: boolean;
}

function lineCount(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\r\n'); i !== -1; i = text.indexOf('\r\n', i + 2)) count++;
  return count;
}

/** Plays one session over a raw socket and returns what the server answered. */
export async function runSmtpSession(
  port: number,
  plan: SmtpSessionPlan,
  deadlineMs = 15_000,
): Promise<SmtpTranscript> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  const changed: (() => void)[] = [];
  const notify = () => changed.splice(0).forEach((wake) => wake());
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
    notify();
  });
  socket.on('error', () => undefined);
  const gone = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      notify();
      resolve();
    }),
  );
  const until = (done: () => boolean, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else changed.push(check);
      };
      check();
    });
  const send = (data: string) => {
    if (!closed && socket.writable) socket.write(Buffer.from(data, 'latin1'));
  };

  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  const writes = [...(plan.ehlo ? ['EHLO fuzz.test\r\n'] : []), ...plan.writes];
  if (plan.early && writes.length > 0) send(writes.shift()!);
  await until(() => closed || text.includes('\r\n'), deadlineMs);
  if (plan.pipelined) {
    send(writes.join('') + SESSION_TRAILER);
  } else {
    for (const data of writes) {
      const before = lineCount(text);
      send(data);
      await until(() => closed || lineCount(text) > before, STEP_WAIT_MS);
    }
    send(SESSION_TRAILER);
  }
  await until(() => closed, deadlineMs);
  const hung = !closed;
  socket.destroy();
  await gone;

  const parts = text.split('\r\n');
  const tail = parts.pop() ?? '';
  const lines = parts;
  const bad = lines.filter((line) => !REPLY_LINE.test(line));
  if (tail !== '') bad.push(`(unterminated) ${tail}`);
  const queued = lines.flatMap((line) => /^250 .*queued as ([A-Za-z0-9]+)/.exec(line)?.[1] ?? []);
  return { lines, bad, queued, hung };
}

/** A plain, valid transaction: the gateway must still take mail after whatever came before. */
export async function normalSession(port: number): Promise<SmtpTranscript> {
  return runSmtpSession(port, {
    early: false,
    pipelined: false,
    ehlo: true,
    writes: [
      'MAIL FROM:<app@example.com>\r\n',
      'RCPT TO:<user@example.net>\r\n',
      'DATA\r\n',
      'From: App <app@example.com>\r\nTo: user@example.net\r\nSubject: canary\r\n\r\nStill here.\r\n.\r\n',
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** Where requests go. */
export interface HttpTarget {
  port: number;
  agent: http.Agent;
}

/** What generated requests need to be made concrete: credentials and the SNS signing key. */
export interface HttpContext extends HttpTarget {
  adminToken: string;
  signer: SnsSigner;
}

export interface ConcreteRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: unknown = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node === 'object' && node !== null) (node as Record<string, unknown>)[keys.at(-1)!] = value;
}

function signedBody(
  signer: SnsSigner,
  plan: SignedEventPlan,
): { body: string; headers: Record<string, string> } {
  const event = sesFixture(plan.fixture);
  for (const [path, value] of plan.mutations) setPath(event, path, value);
  const message = signer.notification(plan.rawMessage ?? event);
  return { body: JSON.stringify(message), headers: snsHeaders(message) };
}

/** Turns a plan into bytes: credentials, a signature where asked, the body. */
export function concreteRequest(plan: HttpRequestPlan, ctx: HttpContext): ConcreteRequest {
  const headers: Record<string, string> = {};
  let method = plan.method;
  let path = plan.path;
  let body: Buffer;
  switch (plan.body.kind) {
    case 'text':
      body = Buffer.from(plan.body.text, 'utf8');
      break;
    case 'bytes':
      body = Buffer.from(plan.body.latin1, 'latin1');
      break;
    case 'repeat':
      body = Buffer.from(plan.body.unit.repeat(Math.ceil(plan.body.bytes / plan.body.unit.length)));
      break;
    case 'signed': {
      const signed = signedBody(ctx.signer, plan.body.event);
      Object.assign(headers, signed.headers);
      body = Buffer.from(signed.body, 'utf8');
      method = 'POST';
      path = '/sns';
      break;
    }
  }
  if (plan.auth === 'valid') headers.authorization = `Bearer ${ctx.adminToken}`;
  if (plan.auth === 'wrong') headers.authorization = 'Bearer not-the-token';
  if (plan.auth === 'garbage') headers.authorization = 'Basic %%%:::';
  if (plan.contentType !== undefined) headers['content-type'] = plan.contentType;
  if (plan.contentEncoding !== undefined) headers['content-encoding'] = plan.contentEncoding;
  if (plan.accept !== undefined) headers.accept = plan.accept;
  if (plan.secFetchSite !== undefined) headers['sec-fetch-site'] = plan.secFetchSite;
  if (plan.snsType !== undefined) headers['x-amz-sns-message-type'] = plan.snsType;
  return { method, path, headers, body };
}

export interface HttpOutcome {
  request: { method: string; path: string; bytes: number };
  status: number;
  contentType: string;
  body: string;
  /** A client-side failure (the server cut the connection), if any. */
  error?: string;
}

export function sendHttp(ctx: HttpTarget, request: ConcreteRequest): Promise<HttpOutcome> {
  const summary = { method: request.method, path: request.path, bytes: request.body.length };
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: ctx.port,
        method: request.method,
        path: request.path,
        headers: { ...request.headers, 'content-length': String(request.body.length) },
        agent: ctx.agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) =>
          resolve({ request: summary, status: 0, contentType: '', body: '', error: err.message }),
        );
        res.on('end', () =>
          resolve({
            request: summary,
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', (err) =>
      resolve({ request: summary, status: 0, contentType: '', body: '', error: err.message }),
    );
    req.end(request.body);
  });
}

/** Sends bytes Node's HTTP parser refuses; returns the raw answer (empty if the socket was just closed). */
export async function sendRawHttp(port: number, bytes: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  socket.end(Buffer.from(bytes, 'latin1'));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
  return text;
}

/** Stack frames as V8 prints them ("at fn (/path/file.js:12:34)") or express's HTML error page. */
const STACK_TRACE =
  /\bat [^\s]+ \(?(\/|file:|node:)[^)]*:\d+:\d+\)?|<pre>(Error|TypeError|RangeError|URIError)/;
/** Statuses that report a server fault; 503 is the webhook and readiness asking for a retry. */
const ALLOWED_5XX: [status: number, path: RegExp][] = [[503, /^\/(sns|readyz)(\?|$)/]];

/** What is wrong with one answer, if anything. */
export function judgeHttp(outcome: HttpOutcome): string[] {
  const { request, status, contentType, body } = outcome;
  const problems: string[] = [];
  const path = request.path.toLowerCase();
  if (outcome.error) {
    // A body over a limit may be cut short once the answer is out; anything else is a fault.
    if (request.bytes < 200 * 1024) problems.push(`connection failed: ${outcome.error}`);
    return problems;
  }
  if (status < 200 || status > 599) problems.push(`status ${status}`);
  if (status >= 500 && !ALLOWED_5XX.some(([s, p]) => s === status && p.test(path)))
    problems.push(`server fault ${status}`);
  if (STACK_TRACE.test(body)) problems.push('stack trace in the body');
  if (request.method === 'HEAD' || status === 204 || status === 304) return problems;
  if (/^application\/json\b/.test(contentType)) {
    try {
      JSON.parse(body);
    } catch {
      problems.push('content-type JSON but the body does not parse');
    }
    return problems;
  }
  const allowed =
    (path.startsWith('/metrics') && status === 200 && contentType.startsWith('text/plain')) ||
    (path.startsWith('/admin') && contentType.startsWith('text/html')) ||
    (path.startsWith('/admin/api/suppressions/export') &&
      /^(text\/csv|application\/x-ndjson)/.test(contentType)) ||
    (path.startsWith('/admin/queues/static/') &&
      /^(application\/javascript|text\/css|image\/|font\/)/.test(contentType));
  if (!allowed) problems.push(`unexpected content-type "${contentType}" (status ${status})`);
  return problems;
}

/**
 * A raw answer to malformed bytes: nothing at all (the peer just went away), or a JSON answer — a
 * 4xx from the parser's refusal, or whatever the route says when Node could read a request after all
 * (it takes "GET /healthz" without a version as HTTP/0.9).
 */
export function judgeRawHttp(answer: string): string[] {
  if (answer === '') return [];
  const match = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(answer);
  if (!match) return [`malformed answer ${JSON.stringify(answer.slice(0, 80))}`];
  const [, status, head, body] = match;
  const problems: string[] = [];
  if (!/^[234]\d\d$/.test(status!)) problems.push(`status ${status}`);
  if (!/content-type: application\/json/i.test(head!)) problems.push('no JSON content-type');
  try {
    JSON.parse(body!);
  } catch {
    problems.push('body is not JSON');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The run as a whole

/** Records unhandled rejections and uncaught exceptions while a fuzz run is in progress. */
export function recordProcessFaults(): { faults: string[]; stop(): void } {
  const faults: string[] = [];
  const onRejection = (reason: unknown) => faults.push(`unhandledRejection: ${String(reason)}`);
  const onException = (err: Error) => faults.push(`uncaughtException: ${err.stack ?? err.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtExceptionMonitor', onException);
  return {
    faults,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtExceptionMonitor', onException);
    },
  };
}

let gc: (() => void) | undefined;

/**
 * Memory still held after full collections: the JS heap plus Buffer memory outside it. The gateway
 * runs in this process, so its memory is this memory; `gc` is reached through V8's flag at run time,
 * as vitest workers do not start with --expose-gc.
 */
export async function heapAfterGc(): Promise<number> {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Waits until every accepted queue id is a completed job whose SES MessageIds the fake SES
 * recorded; returns the ids that are not (lost, failed or still pending at the deadline).
 */
export async function undelivered(
  redisUrl: string,
  prefix: string,
  ses: FakeSes,
  queueIds: string[],
  timeoutMs: number,
): Promise<string[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = createOutboundQueue({
    connection: redis,
    keys: createKeys(prefix),
    retry: { attempts: 1, baseMs: 10, maxMs: 10, maxAgeMs: 60_000 },
    completedRetentionMs: 3_600_000,
    failedRetentionMs: 3_600_000,
    logger: createLogger('silent'),
  });
  const missing = async () => {
    const sent = new Set(ses.sends.map((send) => send.messageId));
    const left: string[] = [];
    for (const id of queueIds) {
      const job = await queue.getJob(id);
      const state = job ? await job.getState() : 'missing';
      const result = job?.returnvalue as SendJobResult | undefined;
      const delivered = state === 'completed' && result?.sesMessageIds.every((m) => sent.has(m)) === true;
      if (!delivered) left.push(id);
    }
    return left;
  };
  try {
    let left = await missing();
    await waitFor(
      async () => {
        left = await missing();
        return left.length === 0;
      },
      { timeoutMs, intervalMs: 200, what: 'every accepted message to reach SES' },
    ).catch(() => undefined);
    return left;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
