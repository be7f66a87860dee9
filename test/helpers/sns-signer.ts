// Signs SNS messages at test time with a throwaway RSA key and a self-signed certificate issued to
// sns.amazonaws.com, or a name of the test's choosing (openssl CLI), so verification runs for real:
// SignatureVersion 1 (RSA-SHA1) and 2 (RSA-SHA256), all three message types, any topic and
// certificate URL. The certificate reaches the verifier through an injected fetcher that also
// records every fetch. The string to sign is the production function's; it is
// pinned separately against hand-written strings and against sns-payload-validator. Also a
// recording suppression sink and the router on a port-0 express app for handler tests.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import express from 'express';
import { createLogger } from '../../src/shared/logger.js';
import { createSnsFastPath, createSnsRouter } from '../../src/webhook/router.js';
import { createSnsWebhook, type SnsWebhook, type SnsWebhookOptions } from '../../src/webhook/webhook.js';
import type { SnsConfirmation, SnsMessage, SnsNotification } from '../../src/webhook/sns-envelope.js';
import { stringToSign, type CertificateFetcher } from '../../src/webhook/sns-verify.js';
import type {
  SoftBounceOptions,
  SuppressionDetails,
  SuppressionSink,
} from '../../src/webhook/suppression-sink.js';

const execFileAsync = promisify(execFile);

export const TEST_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ses-feedback';
export const TEST_CERT_URL =
  'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';

export interface TestCertificate {
  keyPem: string;
  certPem: string;
}

/** `keyPem`: reuse a key (a new certificate for it costs milliseconds; a new RSA key, hundreds). */
export async function createTestCertificate(
  commonName = 'sns.amazonaws.com',
  keyPem?: string,
): Promise<TestCertificate> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-relay-sns-'));
  try {
    const [keyPath, certPath] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    if (keyPem !== undefined) fs.writeFileSync(keyPath, keyPem);
    await execFileAsync('openssl', [
      ...['req', '-x509', '-nodes', '-days', '2'],
      ...(keyPem === undefined ? ['-newkey', 'rsa:2048', '-keyout', keyPath] : ['-key', keyPath]),
      ...['-out', certPath, '-subj', `/CN=${commonName}`],
      ...['-addext', `subjectAltName=DNS:${commonName}`],
    ]);
    return { keyPem: fs.readFileSync(keyPath, 'utf8'), certPem: fs.readFileSync(certPath, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let shared: Promise<TestCertificate> | undefined;

/** One key pair per test process: RSA key generation costs a few hundred ms. */
export function sharedTestCertificate(): Promise<TestCertificate> {
  shared ??= createTestCertificate();
  return shared;
}

export type SignatureVersion = '1' | '2';

type SignatureFields = 'Signature' | 'SignatureVersion' | 'SigningCertURL';
/** A message before signing (distributes over the three message types). */
export type UnsignedSnsMessage<M extends SnsMessage = SnsMessage> = M extends SnsMessage
  ? Omit<M, SignatureFields>
  : never;

interface MessageOptions {
  topicArn?: string;
  messageId?: string;
  version?: SignatureVersion;
  timestamp?: string;
}

export class SnsSigner {
  /** Every URL the verifier asked for, in order. */
  readonly fetches: string[] = [];

  /** `topicArn`: the default for messages; SubscribeURL and UnsubscribeURL are on certUrl's host. */
  constructor(
    readonly certificate: TestCertificate,
    readonly certUrl: string = TEST_CERT_URL,
    readonly topicArn: string = TEST_TOPIC_ARN,
  ) {}

  /** SNS serves the certificate and the (un)subscribe URLs from the same regional endpoint. */
  private get endpoint(): string {
    return `https://${new URL(this.certUrl).host}`;
  }

  readonly fetchCertificate: CertificateFetcher = (url) => {
    this.fetches.push(url.href);
    if (url.href !== this.certUrl) return Promise.reject(new Error(`no certificate at ${url.href}`));
    return Promise.resolve(this.certificate.certPem);
  };

  /** Adds SignatureVersion, SigningCertURL and a Signature over the message's signed fields. */
  sign<M extends SnsMessage>(unsigned: UnsignedSnsMessage<M>, version: SignatureVersion = '2'): M {
    const message = {
      ...unsigned,
      SignatureVersion: version,
      Signature: '',
      SigningCertURL: this.certUrl,
    } as unknown as M;
    const algorithm = version === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
    message.Signature = crypto
      .sign(algorithm, Buffer.from(stringToSign(message), 'utf8'), this.certificate.keyPem)
      .toString('base64');
    return message;
  }

  notification(
    sesEvent: string | object,
    options: MessageOptions & { subject?: string } = {},
  ): SnsNotification {
    const topicArn = options.topicArn ?? this.topicArn;
    return this.sign<SnsNotification>(
      {
        Type: 'Notification',
        MessageId: options.messageId ?? crypto.randomUUID(),
        TopicArn: topicArn,
        Subject: options.subject,
        Message: typeof sesEvent === 'string' ? sesEvent : JSON.stringify(sesEvent),
        Timestamp: options.timestamp ?? new Date().toISOString(),
        UnsubscribeURL: `${this.endpoint}/?Action=Unsubscribe&SubscriptionArn=${topicArn}:sub`,
      },
      options.version,
    );
  }

  subscriptionConfirmation(options: MessageOptions & { subscribeUrl?: string } = {}): SnsConfirmation {
    return this.confirmation('SubscriptionConfirmation', options);
  }

  unsubscribeConfirmation(options: MessageOptions & { subscribeUrl?: string } = {}): SnsConfirmation {
    return this.confirmation('UnsubscribeConfirmation', options);
  }

  private confirmation(
    type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation',
    options: MessageOptions & { subscribeUrl?: string },
  ): SnsConfirmation {
    const topicArn = options.topicArn ?? this.topicArn;
    const token = crypto.randomBytes(64).toString('hex');
    return this.sign<SnsConfirmation>(
      {
        Type: type,
        MessageId: options.messageId ?? crypto.randomUUID(),
        Token: token,
        TopicArn: topicArn,
        Message: `You have chosen to ${type === 'SubscriptionConfirmation' ? 'subscribe to' : 'deactivate'} ${topicArn}.\nVisit the SubscribeURL.`,
        SubscribeURL:
          options.subscribeUrl ??
          `${this.endpoint}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
        Timestamp: options.timestamp ?? new Date().toISOString(),
      },
      options.version,
    );
  }
}

export async function createSnsSigner(certificate?: TestCertificate, certUrl?: string): Promise<SnsSigner> {
  return new SnsSigner(certificate ?? (await sharedTestCertificate()), certUrl);
}

/**
 * A signer for a topic in another region: the shared key, a certificate issued to `certName`, and
 * a certificate URL on `host` (sns.<region>.amazonaws.com, as a genuine one is, unless a test
 * says otherwise).
 */
export async function createRegionalSigner(options: {
  topicArn: string;
  certName: string;
  host: string;
}): Promise<SnsSigner> {
  const { keyPem } = await sharedTestCertificate();
  const certificate = await createTestCertificate(options.certName, keyPem);
  const certUrl = `https://${options.host}/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem`;
  return new SnsSigner(certificate, certUrl, options.topicArn);
}

/** The headers SNS sends with a message (content type text/plain, as SNS's default). */
export function snsHeaders(message: SnsMessage): Record<string, string> {
  return {
    'content-type': 'text/plain; charset=UTF-8',
    'x-amz-sns-message-type': message.Type,
    'x-amz-sns-message-id': message.MessageId,
    'x-amz-sns-topic-arn': message.TopicArn,
    'user-agent': 'Amazon Simple Notification Service Agent',
  };
}

/** An SES event from test/fixtures/ses, parsed. */
let fixtureEvents = 0;

/**
 * A payload from test/fixtures/ses, as a new SES event: each call gives bounces and complaints a
 * feedbackId of their own (SES gives every event one, and the webhook applies an event once by it),
 * and deliveries a timestamp of their own. Posting the same returned object twice is one event
 * delivered twice.
 */
export function sesFixture(name: string): Record<string, unknown> {
  const file = new URL(`../fixtures/ses/${name}.json`, import.meta.url);
  const event = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const serial = String(++fixtureEvents).padStart(6, '0');
  for (const part of ['bounce', 'complaint'] as const) {
    const feedbackId = event[part]?.feedbackId;
    if (typeof feedbackId === 'string') event[part]!.feedbackId = `${feedbackId}-${serial}`;
  }
  if (event.delivery) event.delivery.timestamp = new Date(Date.UTC(2026, 0, 1) + fixtureEvents).toISOString();
  return event;
}

/**
 * A recording stand-in for the suppression store, for webhook tests: it keeps every call, counts
 * soft bounces per address the way the store promises (suppressed at the limit), and lets a test
 * run code inside a call (to kill Redis mid-way) through `during`.
 */
export class RecordingSuppressionSink implements SuppressionSink {
  readonly suppressed: { address: string; details: SuppressionDetails }[] = [];
  readonly softBounces: { address: string; options: SoftBounceOptions }[] = [];
  readonly resets: string[] = [];
  readonly softCounts = new Map<string, number>();
  during:
    | ((method: 'suppress' | 'recordSoftBounce' | 'resetSoftBounces', address: string) => Promise<void>)
    | undefined;

  async suppress(address: string, details: SuppressionDetails): Promise<void> {
    this.suppressed.push({ address, details });
    await this.during?.('suppress', address);
  }

  async recordSoftBounce(
    address: string,
    options: SoftBounceOptions,
  ): Promise<{ count: number; suppressed: boolean }> {
    this.softBounces.push({ address, options });
    const count = (this.softCounts.get(address) ?? 0) + 1;
    this.softCounts.set(address, count);
    await this.during?.('recordSoftBounce', address);
    return { count, suppressed: count >= options.limit };
  }

  async resetSoftBounces(address: string): Promise<void> {
    this.resets.push(address);
    this.softCounts.delete(address);
    await this.during?.('resetSoftBounces', address);
  }

  addresses(): string[] {
    return this.suppressed.map((entry) => entry.address);
  }
}

/** What the router answers: a status, or an error with its code. */
export interface ReplyJson {
  status?: string;
  error?: { code: string; message: string };
}

export interface WebhookServer {
  url: string;
  webhook: SnsWebhook;
  sink: RecordingSuppressionSink;
  /** SubscribeURLs the webhook asked to GET. */
  confirmations: string[];
  logs: { level: string; msg: string; [key: string]: unknown }[];
  /** Requests answered by the fast path (the rest went through the express router). */
  fastAnswers: number;
  post(
    body: SnsMessage | string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: ReplyJson }>;
  close(): Promise<void>;
}

/**
 * The SNS endpoint as the HTTP role serves it (fast path, then the express router) on port 0, with
 * a recording sink and captured logs.
 */
export async function startWebhookServer(
  options: Pick<SnsWebhookOptions, 'redis' | 'prefix'> & Partial<SnsWebhookOptions> & { signer: SnsSigner },
): Promise<WebhookServer> {
  const logs: WebhookServer['logs'] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n'))
          if (line.trim()) logs.push(JSON.parse(line) as WebhookServer['logs'][number]);
        callback();
      },
    }),
  );
  const sink = new RecordingSuppressionSink();
  const confirmations: string[] = [];
  const webhook = createSnsWebhook({
    store: sink,
    logger,
    topicArns: [TEST_TOPIC_ARN],
    fetchCertificate: options.signer.fetchCertificate,
    confirmSubscription: (url) => {
      confirmations.push(url.href);
      return Promise.resolve();
    },
    ...options,
  });
  const app = express();
  app.use(createSnsRouter({ webhook, logger }));
  const result = { fastAnswers: 0 };
  const fastPath = createSnsFastPath({ webhook, logger, onAnswered: () => result.fastAnswers++ });
  const server = http.createServer((req, res) => {
    if (!fastPath(req, res)) void app(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    webhook,
    sink,
    confirmations,
    logs,
    get fastAnswers() {
      return result.fastAnswers;
    },
    async post(body, headers) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const base =
        typeof body === 'string' ? { 'content-type': 'text/plain; charset=UTF-8' } : snsHeaders(body);
      const response = await fetch(`${url}/sns`, {
        method: 'POST',
        body: text,
        headers: { ...base, ...headers },
      });
      return { status: response.status, json: (await response.json()) as ReplyJson };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
