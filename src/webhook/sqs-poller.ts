// SES feedback for hosts with no public HTTPS endpoint: SNS delivers to an SQS queue and the worker
// role long-polls it, feeding each message to the same handler as the webhook. A message is deleted
// only after it was applied (or recognised as a duplicate). Anything refused — a bad signature, a
// foreign topic, unparsable JSON, a raw SES event without SQS_RAW_MESSAGES — is logged and left
// alone, so the queue's redrive policy moves it to a dead-letter queue after maxReceiveCount (and SQS
// drops it after the retention period in any case); a storage failure leaves it to come back after
// the visibility timeout, and when nothing in a batch could be stored the poller waits before its
// next receive (as after a failed receive): every receive counts toward maxReceiveCount, so polling
// at full speed through a Redis or certificate outage would move good feedback to the dead-letter
// queue. Raw events are refused by default: anyone the queue policy lets send could forge one (no
// SNS signature), and a genuine one left in the queue is applied once an operator turns
// SQS_RAW_MESSAGES on, whereas a deleted one would be lost.
import type { AwsCredentials } from '../ses/client.js';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIRECT, type EgressProxy } from '../shared/egress-proxy.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { sqsRegionOf } from './sqs-region.js';
import type { SnsResult, SnsWebhook } from './webhook.js';

/** SQS's longest long poll: one request per 20 s on an idle queue. */
const WAIT_TIME_SECONDS = 20;
const MAX_MESSAGES_PER_RECEIVE = 10;
/**
 * A long poll answers within WaitTimeSeconds; one still open this long after that is abandoned (a
 * half-open connection, a proxy that swallowed it) instead of holding the poller silently for good.
 */
const RECEIVE_TIMEOUT_MARGIN_MS = 5000;
/**
 * After a failed ReceiveMessage (network, permissions), or a batch of which nothing could be stored
 * (Redis, a certificate fetch), wait before asking again, doubling to the cap.
 */
const RECEIVE_ERROR_BACKOFF_MS = 5000;
const RECEIVE_ERROR_BACKOFF_MAX_MS = 60_000;

export interface SqsTiming {
  waitTimeSeconds: number;
  receiveTimeoutMs: number;
  errorBackoffMs: number;
  errorBackoffMaxMs: number;
}

export interface SqsPollerOptions {
  queueUrl: string;
  region: string;
  endpoint?: string | undefined;
  credentials?: AwsCredentials | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY (egressProxyOf(config)); direct connections without it. */
  egress?: EgressProxy | undefined;
  /** `warnings` (an empty SNS_TOPIC_ARNS) are logged when polling starts. */
  webhook: Pick<SnsWebhook, 'handleSnsBody' | 'applySesEvent'> & Partial<Pick<SnsWebhook, 'warnings'>>;
  logger: Logger;
  /** Counts what the poller does (the worker feeds metrics from it). */
  observe?: ((event: SqsPollerEvent, count: number) => void) | undefined;
  /**
   * SQS_RAW_MESSAGES: apply bodies that are a bare SES event (raw message delivery), which carry no
   * signature. Only for a queue whose every sender is trusted; off, they are refused and left.
   */
  rawMessages?: boolean | undefined;
  /** Defaults above; shorter in tests. */
  timing?: Partial<SqsTiming> | undefined;
}

/**
 * received: messages a ReceiveMessage returned; applied: handled and deleted; failed: left in the
 * queue (refused, not stored, or the delete failed); receive_error: a failed ReceiveMessage call.
 */
export type SqsPollerEvent = 'received' | 'applied' | 'failed' | 'receive_error';

export interface SqsPoller {
  start(): void;
  /** Stops at once during a receive or a back-off; otherwise once the messages in hand are handled. */
  stop(): Promise<void>;
}

/** An SNS envelope (subscription without raw delivery) or the bare SES event (raw delivery). */
export function isSnsEnvelope(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return typeof parsed.Type === 'string' && typeof parsed.TopicArn === 'string';
  } catch {
    return false;
  }
}

export function createSqsPoller(options: SqsPollerOptions): SqsPoller {
  const log = options.logger.child({ component: 'sqs', queueUrl: options.queueUrl });
  const waitTimeSeconds = options.timing?.waitTimeSeconds ?? WAIT_TIME_SECONDS;
  const receiveTimeoutMs =
    options.timing?.receiveTimeoutMs ?? waitTimeSeconds * 1000 + RECEIVE_TIMEOUT_MARGIN_MS;
  const errorBackoffMs = options.timing?.errorBackoffMs ?? RECEIVE_ERROR_BACKOFF_MS;
  const errorBackoffMaxMs = options.timing?.errorBackoffMaxMs ?? RECEIVE_ERROR_BACKOFF_MAX_MS;
  // The SDK's own defaults for its pool: keep-alive, 50 sockets.
  const agentOptions = { keepAlive: true, maxSockets: 50 };
  const egress = options.egress ?? DIRECT;
  const client = new SQSClient({
    // Signed for the queue's own region (its URL names it), which need not be SES's.
    region: sqsRegionOf(options.queueUrl, options.region),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: {
      requestTimeout: receiveTimeoutMs,
      throwOnRequestTimeout: true,
      connectionTimeout: 5000,
      httpsAgent: egress.agent('https:', agentOptions),
      httpAgent: egress.agent('http:', agentOptions),
    },
  });
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  const observe = (event: SqsPollerEvent, count = 1) => options.observe?.(event, count);

  /**
   * applied: handled and deleted. refused: a verdict on the message (4xx), left for the redrive
   * policy. retry: it could not be stored or deleted now (5xx, an error); it comes back after the
   * visibility timeout.
   */
  async function handle(message: Message): Promise<'applied' | 'refused' | 'retry'> {
    const body = message.Body ?? '';
    const id = message.MessageId ?? '';
    const envelope = isSnsEnvelope(body);
    if (!envelope && !options.rawMessages) {
      log.warn(
        { sqsMessageId: id },
        'sqs.raw_refused: a body that is not an SNS envelope (raw message delivery) has no signature to check; ' +
          'left in the queue. Turn RawMessageDelivery off on the subscription, or set SQS_RAW_MESSAGES=true ' +
          'if only trusted publishers can send to this queue',
      );
      return 'refused';
    }
    // Envelopes pass the same signature and SNS_TOPIC_ARNS checks as over HTTP. Raw delivery (opted
    // in) has no signature: the queue policy is all that authenticates its sender.
    const result: SnsResult = envelope
      ? await options.webhook.handleSnsBody(body, {}, 'sqs')
      : await options.webhook.applySesEvent(`sqs:${id}`, body);
    if (result.status === 200) {
      await client.send(
        new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      return 'applied';
    }
    const retry = result.status >= 500;
    log[retry ? 'warn' : 'error'](
      { sqsMessageId: id, status: result.status, result: result.body },
      'sqs.message_left',
    );
    return retry ? 'retry' : 'refused';
  }

  const backoffMs = (failures: number) =>
    Math.min(errorBackoffMaxMs, errorBackoffMs * 2 ** Math.min(failures - 1, 10));
  const pause = (ms: number) => sleep(ms, undefined, { signal: abort.signal }).catch(() => undefined);

  /** Handles a batch in order, counting what was applied and what must be tried again later. */
  async function handleAll(messages: Message[]): Promise<{ applied: number; retries: number }> {
    const counts = { applied: 0, retries: 0 };
    for (const message of messages) {
      const outcome = await handle(message).catch((err: unknown) => {
        log.error({ sqsMessageId: message.MessageId, err: errorMessage(err) }, 'sqs.handle_failed');
        return 'retry' as const;
      });
      if (outcome === 'applied') counts.applied++;
      if (outcome === 'retry') counts.retries++;
      observe(outcome === 'applied' ? 'applied' : 'failed');
    }
    return counts;
  }

  async function run(): Promise<void> {
    let failures = 0;
    let failingSince = 0;
    let applyFailures = 0;
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        const reply = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: MAX_MESSAGES_PER_RECEIVE,
            WaitTimeSeconds: waitTimeSeconds,
          }),
          // The socket timeout above misses an answer that trickles in; this bounds the whole call.
          { abortSignal: AbortSignal.any([abort.signal, AbortSignal.timeout(receiveTimeoutMs)]) },
        );
        messages = reply.Messages ?? [];
      } catch (err) {
        if (abort.signal.aborted) return;
        observe('receive_error');
        if (failures++ === 0) failingSince = Date.now();
        const retryInMs = backoffMs(failures);
        log.error({ err: errorMessage(err), failures, retryInMs }, 'sqs.receive_failed');
        await pause(retryInMs);
        continue;
      }
      if (failures > 0) {
        log.info({ failures, failingForMs: Date.now() - failingSince }, 'sqs.receive_recovered');
        failures = 0;
      }
      if (messages.length === 0) continue;
      observe('received', messages.length);
      const { applied, retries } = await handleAll(messages);
      // A batch where nothing could be stored means Redis (or the certificate fetch) is failing for
      // all: every receive counts toward the redrive policy's maxReceiveCount, whatever becomes of
      // the message, so receiving again at once would only use those up while the cause lasts. One
      // message failing among others applied is its own trouble: no reason to slow the rest.
      if (retries === 0 || applied > 0) {
        applyFailures = 0;
        continue;
      }
      const retryInMs = backoffMs(++applyFailures);
      log.warn({ left: retries, failures: applyFailures, retryInMs }, 'sqs.apply_failed');
      await pause(retryInMs);
    }
  }

  return {
    start() {
      log.info('sqs.polling');
      for (const warning of options.webhook.warnings ?? []) log.warn(warning);
      loop = run();
    },
    async stop() {
      abort.abort();
      await loop;
      client.destroy();
    },
  };
}
