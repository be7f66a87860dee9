// The only place that creates the SES v2 client. SDK retries are off (maxAttempts: 1): BullMQ owns
// every retry, so a throttled or failed call is never silently repeated inside one attempt.
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DIRECT, type EgressProxy } from '../shared/egress-proxy.js';

export interface SesClientOptions {
  region: string;
  endpoint?: string | undefined;
  requestTimeoutMs: number;
  /** Upper bound for parallel SES connections (the worker's concurrency). */
  maxSockets: number;
  /** Fixed credentials (the local sink and tests); otherwise the AWS default provider chain. */
  credentials?:
    { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY (egressProxyOf(config)); direct connections without it. */
  egress?: EgressProxy | undefined;
}

export type AwsCredentials = NonNullable<SesClientOptions['credentials']>;

/**
 * Keys given in the configuration (directly, through *_FILE or in .env, which the SDK's own
 * environment provider never sees); otherwise undefined, and the SDK's provider chain applies.
 */
export function configuredCredentials(config: {
  AWS_ACCESS_KEY_ID?: string | undefined;
  AWS_SECRET_ACCESS_KEY?: string | undefined;
  AWS_SESSION_TOKEN?: string | undefined;
}): AwsCredentials | undefined {
  return config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
    ? {
        accessKeyId: config.AWS_ACCESS_KEY_ID,
        secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
        sessionToken: config.AWS_SESSION_TOKEN,
      }
    : undefined;
}

export function createSesClient(options: SesClientOptions): SESv2Client {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  const egress = options.egress ?? DIRECT;
  const client = new SESv2Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 1,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: {
      // SES_REQUEST_TIMEOUT bounds the whole call: the SDK only warns about a late answer unless told
      // to throw, and a call that never ends would hold its worker slot and shutdown for good.
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
      connectionTimeout: 5000,
      httpsAgent: egress.agent('https:', agentOptions),
      httpAgent: egress.agent('http:', agentOptions),
    },
  });
  // The SDK's request timeout stops at the response headers: an answer whose body trickles in would
  // still hold the call. Every call is aborted once SES_REQUEST_TIMEOUT has passed, body included.
  const send = client.send.bind(client) as (command: unknown, sendOptions?: object) => Promise<unknown>;
  client.send = ((command: unknown, sendOptions?: object) =>
    send(command, {
      abortSignal: AbortSignal.timeout(options.requestTimeoutMs),
      ...sendOptions,
    })) as typeof client.send;
  return client;
}
