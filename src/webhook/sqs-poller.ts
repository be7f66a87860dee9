// SES feedback for hosts with no public HTTPS endpoint: SNS delivers to an SQS queue and the worker
// role long-polls it, feeding each message to the same handler as the webhook. A message is deleted
// only after it was applied (or recognised as a duplicate). Anything refused — a bad signature, a
// foreign topic, unparsable JSON — is logged and left alone, so the queue's redrive policy moves it
// to a dead-letter queue after maxReceiveCount; a storage failure leaves it to come back after the
// visibility timeout.
import type { AwsCredentials } from '../ses/client.js';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SnsResult, SnsWebhook } from './webhook.js';

/** SQS's longest long poll: one request per 20 s on an idle queue. */
const WAIT_TIME_SECONDS = 20;
const MAX_MESSAGES_PER_RECEIVE = 10;
/** After a failed ReceiveMessage (network, permissions), wait before asking again. */
const RECEIVE_ERROR_BACKOFF_MS = 5000;

export interface SqsPollerOptions {
  queueUrl: string;
  region: string;
  endpoint?: string | undefined;
  credentials?: AwsCredentials | undefined;
  webhook: Pick<SnsWebhook, 'handleSnsBody' | 'applySesEvent'>;
  logger: Logger;
}

export interface SqsPoller {
  start(): void;
  /** Stops after the receive in flight returns (at most WAIT_TIME_SECONDS) and its messages are handled. */
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
  const client = new SQSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const abort = new AbortController();
  let loop: Promise<void> | undefined;

  async function handle(message: Message): Promise<void> {
    const body = message.Body ?? '';
    const id = message.MessageId ?? '';
    // Raw delivery has no signature to check; SQS itself authenticated the sender (IAM policy).
    const result: SnsResult = isSnsEnvelope(body)
      ? await options.webhook.handleSnsBody(body, {}, 'sqs')
      : await options.webhook.applySesEvent(`sqs:${id}`, body);
    if (result.status === 200) {
      await client.send(
        new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
      return;
    }
    const level = result.status >= 500 ? 'warn' : 'error';
    log[level]({ sqsMessageId: id, status: result.status, result: result.body }, 'sqs.message_left');
  }

  async function run(): Promise<void> {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        const reply = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: MAX_MESSAGES_PER_RECEIVE,
            WaitTimeSeconds: WAIT_TIME_SECONDS,
          }),
          { abortSignal: abort.signal },
        );
        messages = reply.Messages ?? [];
      } catch (err) {
        if (abort.signal.aborted) return;
        log.error({ err: errorMessage(err) }, 'sqs.receive_failed');
        await sleep(RECEIVE_ERROR_BACKOFF_MS, undefined, { signal: abort.signal }).catch(() => undefined);
        continue;
      }
      for (const message of messages) {
        await handle(message).catch((err) => log.error({ err: errorMessage(err) }, 'sqs.handle_failed'));
      }
    }
  }

  return {
    start() {
      log.info('sqs.polling');
      loop = run();
    },
    async stop() {
      abort.abort();
      await loop;
      client.destroy();
    },
  };
}
