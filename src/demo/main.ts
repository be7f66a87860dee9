// `npm run demo`: the gateway on a fresh machine with nothing configured. With no AWS account in
// sight it starts a local SES sink (aws-ses-v2-local) that captures mail instead of delivering it;
// with no Redis reachable it starts a private redis-server when the binary is installed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sesSinkModule from 'aws-ses-v2-local';
import { Redis } from 'ioredis';
import { hasAwsCredentialHints, loadConfig, type Config } from '../config/index.js';
import { runGateway } from '../main.js';
import { createSesClient } from '../ses/client.js';
import { errorMessage } from '../shared/errors.js';
import { sendExamples } from './send-examples.js';

// The package is CommonJS with an ES-style default export; Node hands ESM importers the whole module.
const sesSink = sesSinkModule.default;

const SINK_HOST = '127.0.0.1';
const DEMO_REDIS_PORT = 6390;
/** Recipients per second the demo paces at when it sends to the local sink. */
const DEMO_SINK_RATE = 50;
const DEMO_DIR = path.resolve('.demo');

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1500,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function ensureRedis(url: string): Promise<string> {
  if (await redisAnswers(url)) return url;
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (found.error) {
    console.error(
      `No Redis answers at ${url} and redis-server is not installed.\n` +
        'Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        'or point REDIS_URL at a running Redis 7, then run npm run demo again.',
    );
    process.exit(1);
  }
  fs.mkdirSync(DEMO_DIR, { recursive: true });
  const privateUrl = `redis://127.0.0.1:${DEMO_REDIS_PORT}`;
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(DEMO_REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--dir',
      DEMO_DIR,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  process.on('exit', () => child.kill('SIGTERM'));
  for (let i = 0; i < 50 && !(await redisAnswers(privateUrl)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(privateUrl))) {
    console.error(`Started redis-server on port ${DEMO_REDIS_PORT}, but it does not answer.`);
    process.exit(1);
  }
  console.log(`No Redis at ${url}: started a private redis-server at ${privateUrl} (data in ${DEMO_DIR}).`);
  return privateUrl;
}

function banner(config: Config, sinkUrl: string | undefined): void {
  const examples = sendExamples(config.SMTP_PORT);
  const lines = [
    '',
    '================================================================================',
    ' ses-relay demo is running',
    `   SMTP      ${config.SMTP_HOST}:${config.SMTP_PORT} (no TLS, no AUTH; clients from ${config.SMTP_ALLOWED_NETWORKS.map((c) => `${c.address}/${c.prefix}`).join(', ')})`,
    `   HTTP      http://${config.HTTP_HOST}:${config.HTTP_PORT}/healthz`,
  ];
  if (sinkUrl) {
    lines.push(
      `   SES sink  ${sinkUrl}/  (web page listing received mail)`,
      '',
      ' !!! No AWS account configured: mail is CAPTURED by the local SES sink, NOT delivered. !!!',
      '     Set AWS credentials (or AWS_PROFILE) and AWS_REGION to send through Amazon SES.',
    );
  }
  lines.push(
    '',
    ' Send a test message:',
    `   ${examples.swaks}`,
    `   ${examples.python}`,
    '================================================================================',
    '',
  );
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  let config = loadConfig();
  const redisUrl = await ensureRedis(config.REDIS_URL);
  let sinkUrl: string | undefined;
  const useSink = config.SES_ENDPOINT === undefined && !hasAwsCredentialHints();
  if (useSink) {
    await sesSink({ host: SINK_HOST, port: config.DEMO_SES_SINK_PORT });
    sinkUrl = `http://${SINK_HOST}:${config.DEMO_SES_SINK_PORT}`;
  }
  // The sink has no GetAccount, so the send rate cannot be read from it: pace at a fixed one.
  const sinkRate =
    config.SES_MAX_SEND_RATE === undefined ? { SES_MAX_SEND_RATE: String(DEMO_SINK_RATE) } : {};
  config = loadConfig({ REDIS_URL: redisUrl, ...(sinkUrl ? { SES_ENDPOINT: sinkUrl, ...sinkRate } : {}) });
  const ses = sinkUrl
    ? createSesClient({
        region: config.AWS_REGION,
        endpoint: sinkUrl,
        requestTimeoutMs: config.SES_REQUEST_TIMEOUT,
        maxSockets: config.WORKER_CONCURRENCY,
        credentials: { accessKeyId: 'local-sink', secretAccessKey: 'local-sink' },
      })
    : undefined;
  await runGateway(config, ses ? { ses } : {});
  banner(config, sinkUrl);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${errorMessage(err)}`);
  process.exit(1);
});
