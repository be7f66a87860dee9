// `npm run demo`: the gateway on a fresh machine with nothing configured. With no AWS account in
// sight it starts a local SES sink (aws-ses-v2-local) that captures mail instead of delivering it;
// with no Redis reachable it starts a private redis-server when the binary is installed. It makes up
// admin credentials when none are set, so the admin page and the queue dashboard work, and prints
// them with the CLI command for this demo's queue.
import { randomBytes } from 'node:crypto';
import { hasAwsCredentialHints, loadEnvironment, type Config, type EnvInput } from '../config/index.js';
import { loadConfigOrExit, runGateway } from '../main.js';
import { createSesClient } from '../ses/client.js';
import { errorMessage } from '../shared/errors.js';
import { bannerLines, cliCommand, type AdminAccess, type DeliveryMode } from './banner.js';
import { ensureRedis } from './private-redis.js';
import { DEMO_ACCOUNT, startSesSink } from './ses-sink.js';

/**
 * The queue of a demo that captures mail when REDIS_PREFIX is not set: a gateway's default prefix on
 * a shared Redis would let the demo's worker take that deployment's queued mail into the sink.
 */
const DEMO_PREFIX = 'ses-relay-demo';
/** The user name the demo gives the queue dashboard when no ADMIN_USER/ADMIN_PASSWORD is set. */
const DEMO_ADMIN_USER = 'demo';

const randomSecret = () => randomBytes(24).toString('base64url');

/** The settings that made the demo choose real SES: each one alone would have. */
function credentialHints(env: EnvInput): string[] {
  return Object.keys(env)
    .filter((name) => hasAwsCredentialHints({ [name]: env[name] }))
    .sort();
}

/** Admin credentials: the operator's, or generated for this run; none without the http role. */
function adminAccess(config: Config): { access: AdminAccess | undefined; overrides: EnvInput } {
  if (!config.ROLES.includes('http')) return { access: undefined, overrides: {} };
  const overrides: EnvInput = {};
  const token = config.ADMIN_TOKEN === undefined ? { generated: randomSecret() } : 'configured';
  if (token !== 'configured') overrides.ADMIN_TOKEN = token.generated;
  let basic: AdminAccess['basic'];
  if (config.ADMIN_USER === undefined && config.ADMIN_PASSWORD === undefined) {
    const password = randomSecret();
    overrides.ADMIN_USER = DEMO_ADMIN_USER;
    overrides.ADMIN_PASSWORD = password;
    basic = { user: DEMO_ADMIN_USER, password: { generated: password } };
  } else if (config.ADMIN_USER !== undefined && config.ADMIN_PASSWORD !== undefined) {
    basic = { user: config.ADMIN_USER, password: 'configured' };
  }
  return { access: { token, basic }, overrides };
}

async function main(): Promise<void> {
  // As `ses-relay start`: a refused configuration exits 2, beside the names that are not settings.
  const { config: given, unknown } = loadConfigOrExit();
  // .env under the real environment, as for the configuration: keys kept in .env are used for
  // sending, so they choose real SES as they would in the environment.
  const { env } = loadEnvironment();
  const because = credentialHints(env);
  let mode: DeliveryMode;
  if (given.SES_ENDPOINT !== undefined) mode = { kind: 'endpoint', url: given.SES_ENDPOINT };
  else if (because.length > 0) {
    const inFile = because.filter((name) => process.env[name] === undefined);
    const dotenv = { path: process.env.DOTENV_PATH ?? '.env', names: inFile };
    mode = { kind: 'ses', region: given.AWS_REGION, because, ...(inFile.length > 0 ? { dotenv } : {}) };
  } else {
    const account = env.AWS_SES_ACCOUNT ?? JSON.stringify(DEMO_ACCOUNT);
    mode = { kind: 'sink', url: (await startSesSink(given.DEMO_SES_SINK_PORT, account)).url };
  }
  const redisUrl = await ensureRedis(given.REDIS_URL);
  const admin = adminAccess(given);
  const { config } = loadConfigOrExit({
    REDIS_URL: redisUrl,
    ...admin.overrides,
    ...(mode.kind === 'sink' ? { SES_ENDPOINT: mode.url } : {}),
    ...(mode.kind === 'sink' && env.REDIS_PREFIX === undefined ? { REDIS_PREFIX: DEMO_PREFIX } : {}),
  });
  const ses =
    mode.kind === 'sink'
      ? createSesClient({
          region: config.AWS_REGION,
          endpoint: mode.url,
          requestTimeoutMs: config.SES_REQUEST_TIMEOUT,
          maxSockets: config.WORKER_CONCURRENCY,
          credentials: { accessKeyId: 'local-sink', secretAccessKey: 'local-sink' },
        })
      : undefined;
  // Closing the terminal ends the demo (and its private Redis) rather than leaving it holding its ports.
  await runGateway(config, ses ? { ses } : {}, unknown, { stopOnHangup: true });
  const queueStatsCommand = cliCommand(redisUrl, config.REDIS_PREFIX, 'queue stats');
  console.log(bannerLines({ config, mode, admin: admin.access, queueStatsCommand }).join('\n'));
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${errorMessage(err)}`);
  process.exit(1);
});
