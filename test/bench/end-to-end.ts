// End-to-end benchmarks through a real gateway process (all roles) and a fake SES in this process:
// recipients/s delivered at the fake SES's latency, and the gateway's peak RSS while 50 sessions
// each send a 25 MB message.
import fs from 'node:fs';
import net from 'node:net';
import { startFakeSes, type FakeSes } from '../helpers/fake-ses.js';
import { freePort, startPrivateRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/wait.js';
import { startChild, type Child } from './lib/processes.js';
import { makeMessage, runLoad } from './lib/smtp-load.js';
import type { BenchRow } from './table.js';

const SES_LATENCY_MS = 50;
const RATE_PER_SECOND = 2000;
const MESSAGES = 1500;
const RECIPIENTS_PER_MESSAGE = 10;
const LARGE_MESSAGE_BYTES = 25 * 1000 * 1000;
const LARGE_SESSIONS = 50;

function peakRssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function startGateway(
  ses: FakeSes,
  redisUrl: string,
  extra: Record<string, string> = {},
): Promise<{ child: Child; port: number }> {
  const port = await freePort();
  const child = await startChild(
    ['dist/cli/main.js', 'start'],
    {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(port),
      HTTP_PORT: String(await freePort()),
      REDIS_URL: redisUrl,
      REDIS_PREFIX: 'bench-e2e',
      SES_ENDPOINT: ses.url,
      SES_MAX_SEND_RATE: String(RATE_PER_SECOND),
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      LOG_LEVEL: 'info',
      ...extra,
    },
    '"msg":"app.started"',
  );
  return { child, port };
}

/** One session sending MAIL, RCPT × n, DATA. */
async function sendMany(port: number, recipients: number, count: number, payload: Buffer): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let buffer = '';
  const waiters: ((code: number) => void)[] = [];
  socket.on('data', (data: string) => {
    buffer += data;
    let at: number;
    while ((at = buffer.indexOf('\r\n')) !== -1) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (line[3] !== '-') waiters.shift()?.(Number(line.slice(0, 3)));
    }
  });
  const next = () => new Promise<number>((resolve) => waiters.push(resolve));
  await next();
  socket.write('EHLO bench\r\n');
  await next();
  let accepted = 0;
  for (let i = 0; i < count; i++) {
    const replies = Array.from({ length: recipients + 2 }, () => next());
    const rcpts = Array.from({ length: recipients }, (_, r) => `RCPT TO:<r${r}@example.net>\r\n`).join('');
    socket.write(`MAIL FROM:<bench@example.com>\r\n${rcpts}DATA\r\n`);
    const codes = await Promise.all(replies);
    if (codes.at(-1) !== 354) continue;
    const done = next();
    socket.write(payload);
    socket.write('.\r\n');
    if ((await done) === 250) accepted++;
  }
  socket.destroy();
  return accepted;
}

async function throughput(): Promise<BenchRow> {
  const redis = await startPrivateRedis(['--appendonly', 'yes', '--appendfsync', 'everysec']);
  const ses = await startFakeSes();
  ses.latencyMs = SES_LATENCY_MS;
  const gateway = await startGateway(ses, redis.url);
  try {
    const payload = makeMessage(5 * 1024);
    const sessions = 20;
    await Promise.all(
      Array.from({ length: sessions }, () =>
        sendMany(gateway.port, RECIPIENTS_PER_MESSAGE, MESSAGES / sessions, payload),
      ),
    );
    const expected = MESSAGES * RECIPIENTS_PER_MESSAGE;
    await waitFor(() => ses.sends.reduce((n, s) => n + s.to.length, 0) >= expected, {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const times = ses.sends.map((s) => s.at).sort((a, b) => a - b);
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    const rate = expected / seconds;
    return {
      bench: 'end-to-end',
      case: `SMTP → SES, ${RECIPIENTS_PER_MESSAGE} rcpt/msg, SES latency ${SES_LATENCY_MS} ms, rate ${RATE_PER_SECOND}/s`,
      value: `${Math.round(rate)} recipients/s`,
      detail: `${Math.round((rate / RATE_PER_SECOND) * 100)}% of the paced rate, ${ses.sends.length} SES calls in ${seconds.toFixed(1)} s`,
    };
  } finally {
    await gateway.child.stop();
    await ses.stop();
    await redis.stop();
  }
}

async function largeMessages(): Promise<BenchRow> {
  const redis = await startPrivateRedis(['--appendonly', 'no']);
  const ses = await startFakeSes();
  const gateway = await startGateway(ses, redis.url, { SMTP_MAX_MESSAGE_BYTES: '30MB' });
  try {
    const started = performance.now();
    const result = await runLoad({
      port: gateway.port,
      sessions: LARGE_SESSIONS,
      messageBytes: LARGE_MESSAGE_BYTES,
      total: LARGE_SESSIONS,
    });
    await waitFor(() => ses.sends.length >= result.sent, { timeoutMs: 300_000, intervalMs: 200 });
    const peak = peakRssBytes(gateway.child.process.pid!);
    return {
      bench: 'large messages',
      case: `${LARGE_SESSIONS} sessions × 25 MB, all roles`,
      value: `peak RSS ${(peak / 1024 / 1024).toFixed(0)} MiB`,
      detail: `${result.sent} accepted, ${result.failed} refused, delivered in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    };
  } finally {
    await gateway.child.stop();
    await ses.stop();
    await redis.stop();
  }
}

export async function runEndToEndBench(): Promise<BenchRow[]> {
  return [await throughput(), await largeMessages()];
}
