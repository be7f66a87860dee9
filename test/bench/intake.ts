// Intake benchmark: 20 KB messages over 50 persistent sessions into a Redis with AOF everysec,
// messages/s and end-of-DATA → 250 latency, next to a no-op smtp-server on the same machine.
import { freePort, startPrivateRedis } from '../helpers/redis.js';
import { percentile, runLoad, type LoadResult } from './lib/smtp-load.js';
import { startChild } from './lib/processes.js';
import type { BenchRow } from './table.js';

const MESSAGE_BYTES = 20 * 1024;
const SESSIONS = 50;
const CLOSED_LOOP_MESSAGES = 20_000;
const OFFERED_PER_SECOND = 2000;
const OFFERED_SECONDS = 5;

function rows(name: string, max: LoadResult, offered: LoadResult): BenchRow[] {
  return [
    {
      bench: 'intake',
      case: `${name}: max rate, 20 KB, 50 sessions`,
      value: `${Math.round(max.perSecond)} msg/s`,
      detail: `p50 ${percentile(max.latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(max.latenciesMs, 99).toFixed(2)} ms, failed ${max.failed}`,
    },
    {
      bench: 'intake',
      case: `${name}: ${OFFERED_PER_SECOND} msg/s offered`,
      value: `p99 ${percentile(offered.latenciesMs, 99).toFixed(2)} ms`,
      detail: `p50 ${percentile(offered.latenciesMs, 50).toFixed(2)} ms, achieved ${Math.round(offered.perSecond)} msg/s, failed ${offered.failed}`,
    },
  ];
}

async function measure(port: number): Promise<[LoadResult, LoadResult]> {
  // Warm-up so JIT and connection pools are steady before measuring.
  await runLoad({ port, sessions: SESSIONS, messageBytes: MESSAGE_BYTES, total: 2000 });
  const max = await runLoad({
    port,
    sessions: SESSIONS,
    messageBytes: MESSAGE_BYTES,
    total: CLOSED_LOOP_MESSAGES,
  });
  const offered = await runLoad({
    port,
    sessions: SESSIONS,
    messageBytes: MESSAGE_BYTES,
    offeredPerSecond: OFFERED_PER_SECOND,
    seconds: OFFERED_SECONDS,
  });
  return [max, offered];
}

export async function runIntakeBench(): Promise<BenchRow[]> {
  const redis = await startPrivateRedis(['--appendonly', 'yes', '--appendfsync', 'everysec']);
  const gatewayPort = await freePort();
  const gateway = await startChild(
    ['src/cli/main.ts', 'start'],
    {
      ROLES: 'smtp',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(gatewayPort),
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'bench',
      LOG_LEVEL: 'info',
    },
    '"msg":"app.started"',
  );
  const noopPort = await freePort();
  const noop = await startChild(['test/bench/lib/noop-smtp.ts', String(noopPort)], {}, 'ready');
  try {
    const [noopMax, noopOffered] = await measure(noopPort);
    const [gwMax, gwOffered] = await measure(gatewayPort);
    return [
      ...rows('no-op smtp-server', noopMax, noopOffered),
      ...rows('ses-relay (AOF everysec)', gwMax, gwOffered),
    ];
  } finally {
    await gateway.stop();
    await noop.stop();
    await redis.stop();
  }
}
