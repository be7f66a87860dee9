// Intake benchmark: 20 KB messages over 50 persistent sessions into a Redis with AOF everysec,
// messages/s and end-of-DATA → 250 latency, next to a no-op smtp-server on the same machine.
//
// The highest rate is measured with Postfix's smtp-source when it is available (fetch it with
// test/bench/tools/fetch.sh): a Node generator would take as much CPU per message as the gateway,
// on the same two cores. Three runs, median; each starts with an empty Redis, as a gateway whose
// workers keep up would have. CPU per message is printed for the gateway and Redis: it holds on a
// busy machine, the rate does not. Latency at a fixed offered rate is measured with the Node
// generator, which times each message.
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { freePort, startPrivateRedis } from '../helpers/redis.js';
import { findLoadTool, type LoadTool } from './lib/load-tools.js';
import { startChild, type Child } from './lib/processes.js';
import { percentile, runLoad, type LoadResult } from './lib/smtp-load.js';
import { runSmtpSource } from './lib/smtp-source.js';
import type { BenchRow } from './table.js';

const MESSAGE_BYTES = 20 * 1024;
const SESSIONS = 50;
const MAX_RATE_MESSAGES = 20_000;
const MAX_RATE_RUNS = 3;
const OFFERED_PER_SECOND = 2000;
const OFFERED_SECONDS = 5;

interface Target {
  name: string;
  port: number;
  child: Child;
  /** Empties the queue between runs (undefined for the no-op server). */
  reset?(): Promise<void>;
  redisCpuSeconds?(): Promise<number>;
  /** AOF rewrites Redis has done so far. */
  aofRewrites?(): Promise<number>;
}

/** CPU seconds of a process and its children (the SMTP processes of SMTP_PROCESSES > 1). */
function treeCpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const own = (Number(fields[11]) + Number(fields[12])) / 100;
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return (
    own + (children ? children.split(' ').reduce((sum, child) => sum + treeCpuSeconds(Number(child)), 0) : 0)
  );
}

function processCpuSeconds(child: Child): number {
  return treeCpuSeconds(child.process.pid!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function maxRateWithSmtpSource(tool: LoadTool, target: Target): Promise<BenchRow> {
  const load = { port: target.port, sessions: SESSIONS, messageBytes: MESSAGE_BYTES };
  const rates: number[] = [];
  let gatewayCpu = 0;
  let redisCpu = 0;
  await runSmtpSource(tool, { ...load, messages: 3000 }); // warm-up: JIT, connection pools
  const rewritesBefore = (await target.aofRewrites?.()) ?? 0;
  for (let run = 0; run < MAX_RATE_RUNS; run++) {
    await target.reset?.();
    const cpuBefore = [processCpuSeconds(target.child), (await target.redisCpuSeconds?.()) ?? 0];
    rates.push((await runSmtpSource(tool, { ...load, messages: MAX_RATE_MESSAGES })).perSecond);
    gatewayCpu += processCpuSeconds(target.child) - cpuBefore[0]!;
    redisCpu += ((await target.redisCpuSeconds?.()) ?? 0) - cpuBefore[1]!;
  }
  const perMessageUs = (seconds: number) => Math.round((seconds * 1e6) / (MAX_RATE_MESSAGES * MAX_RATE_RUNS));
  const rewrites = target.aofRewrites
    ? `, ${(await target.aofRewrites()) - rewritesBefore} AOF rewrites`
    : '';
  const cpu = target.redisCpuSeconds
    ? `server ${perMessageUs(gatewayCpu)} µs + Redis ${perMessageUs(redisCpu)} µs${rewrites}`
    : `server ${perMessageUs(gatewayCpu)} µs`;
  return {
    bench: 'intake',
    case: `${target.name}: max rate, 20 KB, 50 sessions (smtp-source)`,
    value: `${Math.round(median(rates))} msg/s`,
    detail: `median of ${MAX_RATE_RUNS} × ${MAX_RATE_MESSAGES} (${rates.map(Math.round).join(', ')}); CPU per message: ${cpu}`,
  };
}

async function maxRateWithNode(target: Target): Promise<BenchRow> {
  await runLoad({ port: target.port, sessions: SESSIONS, messageBytes: MESSAGE_BYTES, total: 2000 });
  await target.reset?.();
  const max = await runLoad({
    port: target.port,
    sessions: SESSIONS,
    messageBytes: MESSAGE_BYTES,
    total: MAX_RATE_MESSAGES,
  });
  return {
    bench: 'intake',
    case: `${target.name}: max rate, 20 KB, 50 sessions (Node generator)`,
    value: `${Math.round(max.perSecond)} msg/s`,
    detail: `p50 ${percentile(max.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(max.latenciesMs, 99).toFixed(2)} ms, failed ${max.failed}; smtp-source not found (test/bench/tools/fetch.sh)`,
  };
}

async function offeredRate(target: Target): Promise<BenchRow> {
  await target.reset?.();
  const offered: LoadResult = await runLoad({
    port: target.port,
    sessions: SESSIONS,
    messageBytes: MESSAGE_BYTES,
    offeredPerSecond: OFFERED_PER_SECOND,
    seconds: OFFERED_SECONDS,
  });
  return {
    bench: 'intake',
    case: `${target.name}: ${OFFERED_PER_SECOND} msg/s offered (Node generator)`,
    value: `p99 ${percentile(offered.latenciesMs, 99).toFixed(2)} ms`,
    detail: `p50 ${percentile(offered.latenciesMs, 50).toFixed(2)} ms, achieved ${Math.round(offered.perSecond)} msg/s, failed ${offered.failed}`,
  };
}

async function measure(target: Target, smtpSource: LoadTool | undefined): Promise<BenchRow[]> {
  const max = smtpSource ? await maxRateWithSmtpSource(smtpSource, target) : await maxRateWithNode(target);
  return [max, await offeredRate(target)];
}

export async function runIntakeBench(): Promise<BenchRow[]> {
  const smtpSource = findLoadTool('smtp-source');
  const redisServer = await startPrivateRedis(['--appendonly', 'yes', '--appendfsync', 'everysec']);
  const redis = new Redis(redisServer.url);
  const startGateway = async (processes: number) => {
    const port = await freePort();
    const child = await startChild(
      ['dist/cli/main.js', 'start'],
      {
        ROLES: 'smtp',
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(port),
        SMTP_PROCESSES: String(processes),
        REDIS_URL: redisServer.url,
        REDIS_PREFIX: 'bench',
        LOG_LEVEL: 'info',
      },
      '"msg":"app.started"',
    );
    return { port, child };
  };
  const { port: gatewayPort, child: gateway } = await startGateway(1);
  const noopPort = await freePort();
  const noop = await startChild(['test/bench/lib/noop-smtp.ts', String(noopPort)], {}, 'ready');
  try {
    const noopRows = await measure({ name: 'no-op smtp-server', port: noopPort, child: noop }, smtpSource);
    const info = async (section: string, name: string) =>
      Number(new RegExp(`${name}:([0-9.]+)`).exec(await redis.info(section))?.[1] ?? 0);
    const gatewayTarget: Target = {
      name: 'ses-relay (AOF everysec)',
      port: gatewayPort,
      child: gateway,
      reset: async () => {
        await redis.flushall();
      },
      redisCpuSeconds: async () => (await info('cpu', 'used_cpu_user')) + (await info('cpu', 'used_cpu_sys')),
      aofRewrites: () => info('persistence', 'aof_rewrites'),
    };
    const gatewayRows = await measure(gatewayTarget, smtpSource);
    // Each run fills an empty queue with 400 MB that nothing drains, so Redis rewrites its AOF
    // several times per run, each time copying everything queued so far. A gateway whose workers
    // keep up rewrites a small file instead; this second round shows the rate without rewrites.
    await redis.config('SET', 'auto-aof-rewrite-percentage', '0');
    const steadyRows = await measure(
      { ...gatewayTarget, name: 'ses-relay (AOF everysec, no AOF rewrite)' },
      smtpSource,
    );
    await gateway.stop();
    // The smtp role in two processes on one port (SMTP_PROCESSES=2), still without rewrites.
    const pair = await startGateway(2);
    try {
      const pairRows = await measure(
        {
          ...gatewayTarget,
          name: 'ses-relay, SMTP_PROCESSES=2 (AOF everysec, no AOF rewrite)',
          port: pair.port,
          child: pair.child,
        },
        smtpSource,
      );
      return [...noopRows, ...gatewayRows, ...steadyRows, ...pairRows];
    } finally {
      await pair.child.stop();
    }
  } finally {
    redis.disconnect();
    await gateway.stop();
    await noop.stop();
    await redisServer.stop();
  }
}
