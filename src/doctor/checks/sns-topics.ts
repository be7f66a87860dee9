// SNS_TOPIC_ARNS is the feedback allow-list: with none, every SNS post to the webhook (and every SQS
// message in an SNS envelope) is refused, so bounces and complaints never reach the suppression list
// and the gateway keeps mailing dead addresses.
import { type CheckResult, type DoctorCheck, ok, warn } from '../types.js';

const ID = 'sns.topics';
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/;

export function evaluateSnsTopics(arns: readonly string[], sqsQueueUrl?: string): CheckResult[] {
  if (arns.length === 0) {
    // With SQS raw message delivery the SES event carries no topic and is applied without the list.
    const viaSqs = sqsQueueUrl ? ' (unless SQS_QUEUE_URL receives them with raw message delivery)' : '';
    return [
      warn(
        ID,
        `no SNS topics configured: bounces and complaints will not reach the suppression list${viaSqs}`,
        'set SNS_TOPIC_ARNS to the topic(s) your configuration set publishes to, and subscribe https://<gateway>/sns (or SQS_QUEUE_URL) to them',
      ),
    ];
  }
  const malformed = arns.filter((arn) => !TOPIC_ARN.test(arn));
  if (malformed.length > 0) {
    return malformed.map((arn) =>
      warn(
        ID,
        `SNS_TOPIC_ARNS entry "${arn}" is not an SNS topic ARN`,
        'use arn:aws:sns:<region>:<account>:<topic>',
      ),
    );
  }
  return [ok(ID, `${arns.length} SNS topic(s) allowed: ${arns.join(', ')}`)];
}

export const snsTopicsCheck: DoctorCheck = {
  id: ID,
  run: (ctx) => Promise.resolve(evaluateSnsTopics(ctx.snsTopicArns, ctx.config.SQS_QUEUE_URL)),
};
