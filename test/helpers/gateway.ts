// Starts a whole gateway in-process for integration tests: real Redis (own prefix), real SMTP and
// HTTP listeners on port 0, the real SES SDK pointed at a fake SES. Log lines are captured.
import { Writable } from 'node:stream';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Redis } from 'ioredis';
import { createApp, type App, type AppAddresses } from '../../src/app.js';
import { parseConfig, type Config, type EnvInput } from '../../src/config/index.js';
import { createSesClient } from '../../src/ses/client.js';
import { egressProxyOf } from '../../src/shared/egress-proxy.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRedisFactory } from '../../src/shared/redis.js';
import type { CertificateFetcher } from '../../src/webhook/index.js';
import { startFakeSes, type FakeSes } from './fake-ses.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './redis.js';

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface TestGateway {
  app: App;
  config: Config;
  ses: FakeSes;
  /** The SES client the gateway's worker sends with (tests may add middleware to watch calls leave). */
  sesClient: SESv2Client;
  redis: Redis;
  smtpPort: number;
  httpPort: number;
  addresses: AppAddresses;
  logs: LogLine[];
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

export async function startGateway(
  env: EnvInput = {},
  options: {
    ses?: FakeSes;
    prefix?: string;
    cleanup?: boolean;
    fetchSnsCertificate?: CertificateFetcher;
  } = {},
): Promise<TestGateway> {
  const ses = options.ses ?? (await startFakeSes());
  const prefix = options.prefix ?? uniquePrefix('gw');
  const config = parseConfig({
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: '0',
    HTTP_PORT: '0',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    SES_ENDPOINT: ses.url,
    SEND_RETRY_BASE: '50ms',
    SEND_RETRY_MAX: '200ms',
    SHUTDOWN_TIMEOUT: '5s',
    // Fast enough that pacing never slows a functional test; pacing has tests of its own.
    SES_MAX_SEND_RATE: '1000',
    LOG_LEVEL: 'debug',
    ...env,
  });
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink);
  const sesClient = createSesClient({
    region: config.AWS_REGION,
    endpoint: config.SES_ENDPOINT,
    requestTimeoutMs: config.SES_REQUEST_TIMEOUT,
    maxSockets: config.WORKER_CONCURRENCY,
    credentials: TEST_CREDENTIALS,
    egress: egressProxyOf(config),
  });
  const app = createApp(config, {
    logger,
    ses: sesClient,
    ...(options.fetchSnsCertificate ? { fetchSnsCertificate: options.fetchSnsCertificate } : {}),
    sqsCredentials: TEST_CREDENTIALS,
  });
  const addresses = await app.start();
  // The same kind of connection the gateway uses (single, Sentinel or Cluster URL).
  const redis = createRedisFactory({
    url: config.REDIS_URL,
    intakeTimeoutMs: 5000,
    commandTimeoutMs: 5000,
    logger,
    sentinelUsername: config.REDIS_SENTINEL_USERNAME,
    sentinelPassword: config.REDIS_SENTINEL_PASSWORD,
  })('command', 'test');
  let stopped = false;
  return {
    app,
    config,
    ses,
    sesClient,
    redis,
    addresses,
    smtpPort: addresses.smtp?.port ?? 0,
    httpPort: addresses.http?.port ?? 0,
    logs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      if (options.cleanup !== false) await deleteKeys(redis, prefix);
      redis.disconnect();
      if (!options.ses) await ses.stop();
    },
  };
}
