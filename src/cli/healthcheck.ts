// The container's health check (Dockerfile HEALTHCHECK, docker-compose.yml): GET /healthz from this
// container's HTTP role and exit 0 on a 200, 1 otherwise. Over HTTPS when HTTP_TLS_CERT is set, as
// the server then speaks nothing else. Reads the environment and .env as the gateway does, without
// validating the whole configuration: it runs every few seconds and must stay cheap.
import http from 'node:http';
import https from 'node:https';
import { loadEnvironment } from '../config/load.js';

/** Under the HEALTHCHECK's own --timeout (5 s), so the check reports its failure itself. */
const REQUEST_TIMEOUT_MS = 4000;
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

const { env } = loadEnvironment();
// Trimmed as the gateway's configuration trims them (a CRLF env file, a value with a newline).
const setting = (name: string) => env[name]?.trim() ?? '';
const host = WILDCARD_HOSTS.has(setting('HTTP_HOST')) ? '127.0.0.1' : setting('HTTP_HOST');
const port = Number(setting('HTTP_PORT') || 8080);
const secure = setting('HTTP_TLS_CERT') !== '';

const request = (secure ? https : http).get(
  {
    host,
    port,
    path: '/healthz',
    timeout: REQUEST_TIMEOUT_MS,
    agent: false,
    // The process checks itself, by address: its certificate names the public host, not this
    // address, and there is no peer to authenticate.
    ...(secure ? { rejectUnauthorized: false } : {}),
  },
  (res) => {
    res.resume();
    process.exitCode = res.statusCode === 200 ? 0 : 1;
  },
);
request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
request.on('error', (err) => {
  process.stderr.write(
    `healthcheck: ${secure ? 'https' : 'http'}://${host}:${port}/healthz: ${err.message}\n`,
  );
  process.exitCode = 1;
});
