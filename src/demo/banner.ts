// What `npm run demo` prints once the gateway runs: where SMTP and HTTP listen, where mail goes and
// why (loudly: a stray AWS_PROFILE must not send real mail unnoticed), how to reach the admin page,
// the exact CLI command for this demo's queue, and how to send a first message. Pure, so the wording
// is tested without starting a demo.
import { QUEUE_BOARD_PATH } from '../admin/queue-board.js';
import type { Config } from '../config/index.js';
import { sendExamples } from './send-examples.js';

/** Where the demo's worker delivers. */
export type DeliveryMode =
  /** The local sink started by the demo. */
  | { kind: 'sink'; url: string }
  /** An SES endpoint the operator named in SES_ENDPOINT. */
  | { kind: 'endpoint'; url: string }
  /**
   * Real Amazon SES; `because`: the credential settings that made the demo choose it; `dotenv`: those
   * of them set only in the .env file (`path`), which `env -u` cannot take away.
   */
  | { kind: 'ses'; region: string; because: string[]; dotenv?: { path: string; names: string[] } };

/** A secret the demo generated (printed) or one the operator set (not printed). */
export type DemoSecret = { generated: string } | 'configured';

export interface AdminAccess {
  token: DemoSecret;
  /** Basic auth for the queue dashboard, which a bearer token cannot open. */
  basic: { user: string; password: DemoSecret } | undefined;
}

export interface BannerInput {
  config: Config;
  mode: DeliveryMode;
  /** Undefined when this demo runs no http role. */
  admin: AdminAccess | undefined;
  /** The shell command that shows this demo's queue. */
  queueStatsCommand: string;
}

/** The CLI without a build: `npx ses-relay` before `npm run build` breaks npx's cache for good. */
export const CLI_FROM_SOURCE = 'npx tsx src/cli/main.ts';

const RULE = '='.repeat(80);

/** A value as one shell word: bare when it is plainly safe, otherwise in single quotes. */
export function shellWord(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * `REDIS_URL=… REDIS_PREFIX=… npx tsx src/cli/main.ts <command>`. A URL with a password is left out
 * (the demo does not print it): the CLI then reads REDIS_URL from the same environment or .env.
 */
export function cliCommand(redisUrl: string, prefix: string, command: string): string {
  const hasPassword = URL.canParse(redisUrl) && new URL(redisUrl).password !== '';
  const url = hasPassword ? '' : `REDIS_URL=${shellWord(redisUrl)} `;
  return `${url}REDIS_PREFIX=${shellWord(prefix)} ${CLI_FROM_SOURCE} ${command}`;
}

/** The address a client on this host uses for a listener bound to `host`. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function httpBase(config: Config): string {
  const scheme = config.HTTP_TLS_CERT ? 'https' : 'http';
  return `${scheme}://${reachable(config.HTTP_HOST)}:${config.HTTP_PORT}`;
}

function modeLines(mode: DeliveryMode): string[] {
  switch (mode.kind) {
    case 'sink':
      return [
        `   SES sink  ${mode.url}/  (web page listing received mail)`,
        '',
        ' !!! No AWS account configured: mail is CAPTURED by the local SES sink, NOT delivered. !!!',
        '     Set AWS credentials (or AWS_PROFILE) and AWS_REGION to send through Amazon SES.',
      ];
    case 'endpoint':
      return [
        '',
        ` Delivering to the SES endpoint ${mode.url} (SES_ENDPOINT is set), not to the local sink.`,
      ];
    case 'ses': {
      const because = mode.because.length > 0 ? mode.because.join(', ') : 'AWS credentials were found';
      const verb = mode.because.length === 1 ? 'is' : 'are';
      const inFile = mode.dotenv?.names ?? [];
      const unset = mode.because
        .filter((name) => !inFile.includes(name))
        .map((name) => `-u ${name}`)
        .join(' ');
      const ways = [
        ...(unset ? [`env ${unset} npm run demo`] : []),
        ...(inFile.length > 0 ? [`remove ${inFile.join(', ')} from ${mode.dotenv!.path}`] : []),
      ];
      return [
        '',
        ` !!! Delivering through REAL Amazon SES (${mode.region}): ${because} ${verb} set. !!!`,
        '     Mail to real addresses is DELIVERED. To capture it in the local SES sink instead, run',
        `     without ${mode.because.length === 1 ? 'it' : 'them'}${ways.length > 0 ? `: ${ways.join('; ')}` : ''}`,
      ];
    }
  }
}

function secretText(secret: DemoSecret, name: string): string {
  return secret === 'configured' ? `(your ${name})` : secret.generated;
}

function adminLines(config: Config, admin: AdminAccess): string[] {
  const base = httpBase(config);
  const lines = [
    '',
    ` Admin page  ${base}/admin  (sign in with the admin token)`,
    `   ADMIN_TOKEN=${secretText(admin.token, 'ADMIN_TOKEN')}` +
      (admin.token === 'configured'
        ? ''
        : '   (generated for this run; export it for the README curl examples)'),
  ];
  if (admin.basic) {
    lines.push(
      `   Queue dashboard  ${base}${QUEUE_BOARD_PATH}/  user ${admin.basic.user}, password ${secretText(admin.basic.password, 'ADMIN_PASSWORD')}`,
    );
  }
  return lines;
}

export function bannerLines({ config, mode, admin, queueStatsCommand }: BannerInput): string[] {
  const examples = sendExamples(config.SMTP_PORT);
  const networks = config.SMTP_ALLOWED_NETWORKS.map((c) => `${c.address}/${c.prefix}`).join(', ');
  return [
    '',
    RULE,
    ' ses-relay demo is running',
    `   SMTP      ${config.SMTP_HOST}:${config.SMTP_PORT} (no TLS, no AUTH; clients from ${networks})`,
    `   HTTP      ${httpBase(config)}/healthz`,
    ...modeLines(mode),
    ...(admin ? adminLines(config, admin) : []),
    '',
    " This demo's queue, from the CLI (no build needed):",
    `   ${queueStatsCommand}`,
    '',
    ' Send a test message:',
    `   ${examples.swaks}`,
    `   ${examples.python}`,
    RULE,
    '',
  ];
}
