// Property-based fuzzing of the two listeners with fast-check (test/fuzz/generators.ts): thousands
// of generated SMTP sessions (valid and invalid commands, random bytes, pipelining, DATA bodies with
// dots, odd line endings and long lines) and HTTP requests (traversal paths, wrong methods, hostile
// headers and bodies, SNS messages validly signed around mutated SES events). After the run:
// no crash (a normal session still works), no unhandled rejection, heap back near its baseline and
// every message answered 250 delivered to the fake SES.
//
// `npm test` runs a short fixed-seed pass. The long run reads the same file with more runs:
//   npx vitest run --config test/fuzz/vitest.config.ts      (FUZZ_RUNS=1000 by default there)
// FUZZ_RUNS=<n> sets the runs per property (SMTP: n × 32 sessions, HTTP: n × 48 requests);
// FUZZ_SEED=<n> or FUZZ_SEED=random changes the seed (a failure prints the seed and path to replay).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLongLine, MAX_LINE_CHARS } from '../../src/mail/message-check.js';
import { isMailboxSyntax } from '../../src/mail/mailbox.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { createSnsSigner, TEST_TOPIC_ARN, type SnsSigner } from '../helpers/sns-signer.js';
import { removeTempDirs, tempDir } from '../helpers/tls-cert.js';
import { FUZZ_SMTP_USER, httpRequest, rawHttpRequest, smtpSession } from '../fuzz/generators.js';
import {
  concreteRequest,
  fuzzRuns,
  fuzzSeed,
  heapAfterGc,
  judgeHttp,
  judgeRawHttp,
  mapLimit,
  normalSession,
  recordProcessFaults,
  runSmtpSession,
  sendHttp,
  sendRawHttp,
  undelivered,
  type HttpContext,
} from '../fuzz/harness.js';

const SEED = fuzzSeed(20_261_122);

const RUNS = fuzzRuns(40);
/**
 * Sessions per run, all in flight at once: smtp-server holds every greeting back 100 ms (to catch
 * clients that talk first), so throughput comes from concurrency. Under SMTP_MAX_CONNECTIONS_PER_IP.
 */
const SMTP_BATCH = 32;
const MAX_CONNECTIONS_PER_IP = SMTP_BATCH * 2;
const HTTP_BATCH = 48;
const HTTP_CONCURRENCY = 8;
/** Heap growth allowed across a run, after full collections (the gateway shares this heap). */
const MAX_HEAP_GROWTH_BYTES = 50 * 1024 * 1024;
/**
 * Log events that mean the server failed, as opposed to refusals logged at error on purpose (an
 * unsigned SNS message, for one, points at a RawMessageDelivery misconfiguration).
 */
const SERVER_FAULTS = new Set([
  'http.error',
  'http.stream_failed',
  'admin.error',
  'admin.stream_failed',
  'sns.failed',
]);
/** Generous per-run budget for the test timeout, plus the fixed costs (start, delivery, checks). */
const testTimeoutMs = (perRunMs: number) => 60_000 + RUNS * perRunMs;

/** Connects and returns the server's first line (the greeting, or a refusal), then hangs up. */
async function firstLine(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const line = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) resolve(text.slice(0, text.indexOf('\r\n')));
    });
    socket.on('close', () => resolve(text));
  });
  socket.destroy();
  return line;
}

describe('SMTP listener under generated hostile sessions', () => {
  let gw: TestGateway;
  const recorder = recordProcessFaults();
  const accepted: string[] = [];

  beforeAll(async () => {
    const usersFile = path.join(tempDir('fuzz-users'), 'users.yaml');
    const hash = bcrypt.hashSync(FUZZ_SMTP_USER.password, 4);
    fs.writeFileSync(
      usersFile,
      `users:\n  - username: ${FUZZ_SMTP_USER.username}\n    password: "${hash}"\n`,
    );
    gw = await startGateway({
      LOG_LEVEL: 'warn',
      SMTP_MAX_MESSAGE_BYTES: '32KiB',
      SMTP_MAX_RECIPIENTS: '20',
      SMTP_USERS_FILE: usersFile,
      SMTP_ALLOW_INSECURE_AUTH: 'true',
      SMTP_SOCKET_TIMEOUT: '10s',
      SMTP_MAX_CONNECTIONS_PER_IP: String(MAX_CONNECTIONS_PER_IP),
    });
  });
  afterAll(async () => {
    recorder.stop();
    await gw?.stop();
    removeTempDirs();
  });

  it(
    'answers every session with well-formed replies, ends it, keeps serving and loses no accepted message',
    async () => {
      expect((await normalSession(gw.smtpPort)).queued).toHaveLength(1);
      const baseline = await heapAfterGc();

      await fc.assert(
        fc.asyncProperty(
          fc.array(smtpSession, { minLength: SMTP_BATCH, maxLength: SMTP_BATCH }),
          async (plans) => {
            const transcripts = await mapLimit(plans, SMTP_BATCH, (plan) =>
              runSmtpSession(gw.smtpPort, plan),
            );
            for (const transcript of transcripts) {
              accepted.push(...transcript.queued);
              expect(transcript.bad).toEqual([]);
              expect(transcript.hung).toBe(false);
              expect(transcript.lines[0] ?? '').toMatch(/^(220|421) /);
            }
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );

      // No connection slot leaked: a client may still open SMTP_MAX_CONNECTIONS_PER_IP at once.
      const greetings = await Promise.all(
        Array.from({ length: MAX_CONNECTIONS_PER_IP }, () => firstLine(gw.smtpPort)),
      );
      expect(greetings.filter((line) => !line.startsWith('220 '))).toEqual([]);

      const canary = await normalSession(gw.smtpPort);
      expect(canary.bad).toEqual([]);
      expect(canary.queued).toHaveLength(1);
      accepted.push(...canary.queued);
      expect(accepted.length).toBeGreaterThan(RUNS);

      expect(await undelivered(TEST_REDIS_URL, gw.config.REDIS_PREFIX, gw.ses, accepted, 30_000)).toEqual([]);
      expect(recorder.faults).toEqual([]);
      // The fake SES keeps every message it was sent, in this same heap: not the gateway's memory.
      gw.ses.reset();
      const growth = (await heapAfterGc()) - baseline;
      expect(growth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
      console.log(
        `smtp fuzz: ${RUNS * SMTP_BATCH}+ sessions, ${accepted.length} accepted and delivered, heap ${(growth / 2 ** 20).toFixed(1)} MiB`,
      );
    },
    testTimeoutMs(1000),
  );
});

describe('HTTP listener under generated hostile requests', () => {
  let gw: TestGateway;
  let signer: SnsSigner;
  let ctx: HttpContext;
  const recorder = recordProcessFaults();
  const adminToken = 'fuzz-admin-token';

  beforeAll(async () => {
    signer = await createSnsSigner();
    gw = await startGateway(
      { LOG_LEVEL: 'warn', ADMIN_TOKEN: adminToken, SNS_TOPIC_ARNS: TEST_TOPIC_ARN },
      { fetchSnsCertificate: signer.fetchCertificate },
    );
    ctx = {
      port: gw.httpPort,
      adminToken,
      signer,
      agent: new http.Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY }),
    };
  });
  afterAll(async () => {
    recorder.stop();
    ctx?.agent.destroy();
    await gw?.stop();
  });

  it(
    'answers every request with a status in 200–599 and JSON (or the page, a scrape, an export), never a 500 or a stack trace',
    async () => {
      const baseline = await heapAfterGc();
      let sent = 0;

      await fc.assert(
        fc.asyncProperty(
          fc.array(httpRequest, { minLength: HTTP_BATCH, maxLength: HTTP_BATCH }),
          fc.array(rawHttpRequest, { maxLength: 2 }),
          async (plans, raws) => {
            const outcomes = await mapLimit(plans, HTTP_CONCURRENCY, (plan) =>
              sendHttp(ctx, concreteRequest(plan, ctx)),
            );
            const rawAnswers = await Promise.all(raws.map((bytes) => sendRawHttp(gw.httpPort, bytes)));
            sent += outcomes.length + rawAnswers.length;
            const problems = [
              ...outcomes.flatMap((outcome) =>
                judgeHttp(outcome).map(
                  (problem) => `${outcome.request.method} ${outcome.request.path}: ${problem}`,
                ),
              ),
              ...rawAnswers.flatMap((answer, i) =>
                judgeRawHttp(answer).map((problem) => `raw #${i}: ${problem}`),
              ),
            ];
            expect(problems).toEqual([]);
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );

      const health = await fetch(`http://127.0.0.1:${gw.httpPort}/healthz`);
      expect(health.status).toBe(200);
      const stats = await fetch(`http://127.0.0.1:${gw.httpPort}/admin/api/stats`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(stats.status).toBe(200);
      expect(gw.logs.filter((line) => SERVER_FAULTS.has(line.msg))).toEqual([]);
      expect(recorder.faults).toEqual([]);
      ctx.agent.destroy();
      const growth = (await heapAfterGc()) - baseline;
      expect(growth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
      console.log(`http fuzz: ${sent} requests, heap ${(growth / 2 ** 20).toFixed(1)} MiB`);
    },
    testTimeoutMs(1000),
  );
});

describe('the pure checks behind the 550 and 553 replies', () => {
  const eol = fc.constantFrom('\r\n', '\n', '');

  it('finds the first line over 998 characters, whatever the line endings', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1100 }), eol), { maxLength: 20 }), (lines) => {
        // A line without an ending runs into the next one: merge those as a reader would.
        const merged: number[] = [];
        let open = 0;
        for (const [length, ending] of lines) {
          open += length;
          if (ending !== '') {
            merged.push(open);
            open = 0;
          }
        }
        if (open > 0 || lines.length === 0 || lines.at(-1)![1] === '') merged.push(open);
        const raw = Buffer.from(lines.map(([length, ending]) => 'x'.repeat(length) + ending).join(''));
        const index = merged.findIndex((length) => length > MAX_LINE_CHARS);
        const found = findLongLine(raw);
        expect(found).toEqual(index === -1 ? undefined : { line: index + 1, length: merged[index] });
      }),
      { numRuns: RUNS * 10, seed: SEED },
    );
  });

  const atom = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}$/);
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
  const mailbox = fc
    .tuple(fc.array(atom, { minLength: 1, maxLength: 4 }), fc.array(label, { minLength: 1, maxLength: 4 }))
    .filter(([atoms]) => atoms.join('.').length <= 64)
    .map(([atoms, labels]) => ({ local: atoms.join('.'), domain: labels.join('.') }));

  it('accepts every RFC 5321 dot-string mailbox and refuses it with a separator or space inserted', () => {
    fc.assert(
      fc.property(
        mailbox,
        fc.constantFrom(',', ';', ' ', '(', ')', '<', '>', '[', ']', ':', '"', '\\', '@'),
        fc.nat(),
        (m, bad, at) => {
          expect(isMailboxSyntax(`${m.local}@${m.domain}`)).toBe(true);
          const i = at % (m.local.length + 1);
          const broken = `${m.local.slice(0, i)}${bad}${m.local.slice(i)}`;
          // '@' moves the split: what is left of the last '@' must then still be a valid local part.
          if (bad !== '@') expect(isMailboxSyntax(`${broken}@${m.domain}`)).toBe(false);
          expect(isMailboxSyntax(`"${m.local}"@${m.domain}`)).toBe(true);
        },
      ),
      { numRuns: RUNS * 10, seed: SEED },
    );
  });
});
