// Pacing benchmark: a backlog of SendEmail calls (1–50 recipients, mean ~10) paced by the global
// pacer into a fake SES that answers after 50 ms, at several rates. Sender count follows the
// concurrency tracker. Arrival times at the fake SES are what is measured: achieved rate, the most
// recipients in any sliding second, and how many sliding seconds went over the rate (must be 0).
// The fake SES runs in its own process, as SES would: a busy sender loop must not skew its clock.
// Run: npx tsx test/bench/pacing.ts
import { fork } from 'node:child_process';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createConcurrencyTracker } from '../../src/pacing/concurrency.js';
import { createPacer, DEFAULT_PACER_MARGIN_MS } from '../../src/pacing/pacer.js';
import { slidingWindowStats } from '../../src/pacing/window-stats.js';
import { startFakeSes } from '../helpers/fake-ses.js';
import { startPrivateRedis } from '../helpers/redis.js';

/** Rates per second; delays in ms. `ceilingPercent`: the pacer's own ceiling, 1 s over its window. */
export interface Row {
  targetPerSecond: number;
  achievedPerSecond: number;
  achievedPercent: number;
  ceilingPercent: number;
  maxInAnySecond: number;
  secondsOverRate: number;
  senders: number;
  /** The tracker's moving average of SES latency, as the senders saw it. */
  trackedLatencyMs: number;
  sesCalls: number;
  rebooked: number;
  lateSends: number;
  /** Redis CPU per booking (INFO commandstats), µs. */
  redisUsPerBooking: number;
  loopDelayP99Ms: number;
  /**
   * From `acquire` resolving to the fake SES's timestamp, less its latency: what the pacer cannot
   * check. The fake stamps `at` after its latency timer, so its own timer lateness is included.
   */
  sendDelayP99Ms: number;
  sendDelayMaxMs: number;
}

export interface BenchOptions {
  rates?: number[];
  /** Measured seconds; one more second of ramp-up runs before them. */
  seconds?: number;
  sesLatencyMs?: number;
  marginMs?: number;
}

const SES_LATENCY_MS = 50;
const RAMP_UP_MS = 1000;
/** How often the sender pool is resized to the tracker's suggestion. */
const RESIZE_EVERY_MS = 200;
/** About twice what 5,000/s needs at 50 ms: an overloaded host reports slow calls, and more senders would only load it further. */
const MAX_SENDERS = 100;
const RAW = Buffer.from('From: a@example.com\r\nSubject: bench\r\n\r\nhi\r\n').toString('base64');

/** 1–50 recipients, mostly few: mean ~9.9. */
function chunkSize(): number {
  return Math.min(50, 1 + Math.floor(-Math.log(1 - Math.random()) * 9));
}

/** `pacedAt`: wall clock, shared with the fake SES on this host, to measure what the pacer cannot see. */
async function post(url: string, recipients: number, pacedAt: number): Promise<void> {
  const res = await fetch(`${url}/v2/email/outbound-emails`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      FromEmailAddress: 'a@example.com',
      Destination: { ToAddresses: Array.from({ length: recipients }, (_, i) => `r${i}@example.net`) },
      Content: { Raw: { Data: RAW } },
      EmailTags: [{ Name: 'pacedAt', Value: String(pacedAt) }],
    }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`fake SES answered ${res.status}`);
}

async function runOne(rate: number, ses: FakeSesProcess, redisUrl: string, opts: Required<BenchOptions>) {
  // As a worker reads GetAccount before sending: the first requests of a process and on each new
  // connection are slow (module loading, connect), and would land after the pacer's "now".
  await Promise.all(
    Array.from({ length: 50 }, async () => (await fetch(`${ses.url}/v2/email/account`)).arrayBuffer()),
  );
  await ses.reset(opts.sesLatencyMs);
  const redis = new Redis(redisUrl);
  await redis.config('RESETSTAT');
  const pacer = createPacer({ redis, key: `bench:${rate}`, ratePerSecond: rate, marginMs: opts.marginMs });
  const tracker = createConcurrencyTracker({
    ratePerSecond: rate,
    min: 4,
    max: MAX_SENDERS,
    initialLatencyMs: opts.sesLatencyMs,
    initialRecipientsPerCall: 10,
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const endAt = performance.now() + RAMP_UP_MS + opts.seconds * 1000;
  let active = 0;
  let target = tracker.suggested();
  let peak = 0;
  const senders: Promise<void>[] = [];

  const sender = async () => {
    active++;
    try {
      while (performance.now() < endAt && active <= target) {
        const n = chunkSize();
        try {
          await pacer.acquire(n);
        } catch {
          return; // closed at the end
        }
        const sentAt = performance.now();
        await post(ses.url, n, Date.now());
        tracker.record(performance.now() - sentAt, n);
      }
    } finally {
      active--;
    }
  };
  const resize = () => {
    target = tracker.suggested();
    while (active < target && performance.now() < endAt) senders.push(sender());
    peak = Math.max(peak, active);
  };
  resize();
  const resizer = setInterval(resize, RESIZE_EVERY_MS);
  await new Promise((resolve) => setTimeout(resolve, endAt - performance.now()));
  clearInterval(resizer);
  await pacer.close();
  await Promise.all(senders);
  loopDelay.disable();

  const calls = await bookingCost(redis);
  redis.disconnect();
  const arrivals = await ses.arrivals();
  const windows = slidingWindowStats(arrivals, 1000, rate);
  // Whole pacer windows only: a span of k windows holds at most k × rate, so a span with a partial
  // window would flatter the result.
  const from = Math.min(...arrivals.map((a) => a.at)) + RAMP_UP_MS;
  const spanMs = Math.floor((opts.seconds * 1000) / pacer.windowMs) * pacer.windowMs;
  const measured = arrivals
    .filter((a) => a.at >= from && a.at < from + spanMs)
    .reduce((sum, a) => sum + a.count, 0);
  const achieved = (measured * 1000) / spanMs;
  const stats = pacer.stats();
  const delays = arrivals.map((a) => a.at - a.pacedAt - opts.sesLatencyMs).sort((a, b) => a - b);
  const row: Row = {
    targetPerSecond: rate,
    achievedPerSecond: Math.round(achieved),
    achievedPercent: round1((achieved / rate) * 100),
    ceilingPercent: round1((1000 / pacer.windowMs) * 100),
    maxInAnySecond: windows.maxInWindow,
    secondsOverRate: windows.windowsOverLimit,
    senders: peak,
    trackedLatencyMs: round1(tracker.snapshot().latencyMs),
    sesCalls: arrivals.length,
    rebooked: stats.rebooked,
    lateSends: stats.lateSends,
    redisUsPerBooking: calls,
    loopDelayP99Ms: round1(loopDelay.percentile(99) / 1e6),
    sendDelayP99Ms: delays[Math.floor(delays.length * 0.99)] ?? 0,
    sendDelayMaxMs: delays.at(-1) ?? 0,
  };
  return row;
}

/** Mean Redis-side microseconds per pacer script call since RESETSTAT. */
async function bookingCost(redis: Redis): Promise<number> {
  const stats = [...(await redis.info('commandstats')).matchAll(/cmdstat_evalsha:calls=(\d+),usec=(\d+)/g)];
  const [calls, usec] = [Number(stats[0]?.[1] ?? 0), Number(stats[0]?.[2] ?? 0)];
  return calls === 0 ? 0 : round1(usec / calls);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export async function runPacingBench(options: BenchOptions = {}): Promise<Row[]> {
  const opts: Required<BenchOptions> = {
    rates: options.rates ?? [100, 1000, 5000],
    seconds: options.seconds ?? 5,
    sesLatencyMs: options.sesLatencyMs ?? SES_LATENCY_MS,
    marginMs: options.marginMs ?? DEFAULT_PACER_MARGIN_MS,
  };
  // A private Redis: its command statistics are the pacer's alone.
  const server = await startPrivateRedis();
  const ses = await startFakeSesProcess();
  try {
    const rows: Row[] = [];
    for (const rate of opts.rates) rows.push(await runOne(rate, ses, server.url, opts));
    return rows;
  } finally {
    ses.stop();
    await server.stop();
  }
}

interface Arrival {
  at: number;
  count: number;
  pacedAt: number;
}
type ToChild = { cmd: 'reset'; latencyMs: number } | { cmd: 'arrivals' } | { cmd: 'stop' };
type FakeSesProcess = Awaited<ReturnType<typeof startFakeSesProcess>>;

/** The fake SES in a child process (this file again, with FAKE_SES_CHILD=1), driven over IPC. */
async function startFakeSesProcess() {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FAKE_SES_CHILD: '1' },
  });
  const ask = <T>(message?: ToChild) =>
    new Promise<T>((resolve, reject) => {
      const onExit = () => reject(new Error('fake SES child exited'));
      child.once('exit', onExit);
      child.once('message', (reply) => {
        child.off('exit', onExit);
        resolve(reply as T);
      });
      if (message) child.send(message);
    });
  const { url } = await ask<{ url: string }>();
  return {
    url,
    reset: (latencyMs: number) => ask<{ ok: true }>({ cmd: 'reset', latencyMs }),
    arrivals: () => ask<Arrival[]>({ cmd: 'arrivals' }),
    stop: () => child.send({ cmd: 'stop' } satisfies ToChild),
  };
}

async function serveFakeSes(): Promise<void> {
  const ses = await startFakeSes();
  const reply = (message: unknown) => process.send?.(message);
  process.on('message', (message: ToChild) => {
    switch (message.cmd) {
      case 'reset':
        ses.reset();
        ses.latencyMs = message.latencyMs;
        return reply({ ok: true });
      case 'arrivals':
        return reply(
          ses.sends.map((s) => ({
            at: s.at,
            count: s.to.length,
            pacedAt: Number(s.tags.find((t) => t.Name === 'pacedAt')?.Value),
          })),
        );
      case 'stop':
        void ses.stop().then(() => process.exit(0));
        return;
    }
  });
  reply({ url: ses.url });
}

if (process.env.FAKE_SES_CHILD === '1') {
  await serveFakeSes();
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Optional: --margin=<ms> --seconds=<s> --rates=100,1000 --latency=<fake SES ms>
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const rows = await runPacingBench({
    ...(arg('margin') ? { marginMs: Number(arg('margin')) } : {}),
    ...(arg('seconds') ? { seconds: Number(arg('seconds')) } : {}),
    ...(arg('rates') ? { rates: arg('rates')!.split(',').map(Number) } : {}),
    ...(arg('latency') ? { sesLatencyMs: Number(arg('latency')) } : {}),
  });
  const load = os.loadavg().map((l) => l.toFixed(1));
  console.log(`load average ${load.join(' ')} on ${os.cpus().length} cores`);
  console.table(rows);
}
