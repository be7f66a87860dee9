// One chunk's SendEmail call as the worker makes it: timed for the metrics, recorded in the message's
// timeline, and any error turned into a SendFailure carrying its class and SES's evidence.
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { classifySesError, sesErrorFacts, type SesErrorClass } from '../ses/classify.js';
import { SesCallError, sendRaw } from '../ses/send.js';
import type { Logger } from '../shared/logger.js';
import type { TraceStore } from '../trace/trace-store.js';
import type { SendJobData } from './job.js';

export interface SesCallObserver {
  (outcome: SesErrorClass | 'sent', durationMs: number, recipients: number): void;
}

export class SendFailure extends Error {
  constructor(
    readonly errorClass: SesErrorClass,
    message: string,
  ) {
    super(message);
  }
}

export interface SesCallDeps {
  ses: SESv2Client;
  logger: Logger;
  observe?: SesCallObserver | undefined;
  trace?: TraceStore | undefined;
}

/** Returns the call: resolves to the chunk's SES MessageId, rejects with a SendFailure. */
export function createSesCall(deps: SesCallDeps) {
  function trace(queueId: string, event: Parameters<TraceStore['record']>[1]): void {
    deps.trace
      ?.record(queueId, event)
      .catch((err: Error) => deps.logger.warn({ queueId, err: err.message }, 'trace.write_failed'));
  }

  return async function sendChunk(
    data: SendJobData,
    raw: Buffer,
    recipients: string[],
    chunk: number,
  ): Promise<string> {
    const startedAt = performance.now();
    try {
      const id = await sendRaw(deps.ses, {
        from: data.from,
        recipients,
        raw,
        configurationSet: data.configurationSet,
        tags: data.tags,
        identityArn: data.identityArn,
      });
      deps.observe?.('sent', performance.now() - startedAt, recipients.length);
      trace(data.queueId, {
        type: 'ses-call',
        at: Date.now(),
        outcome: 'sent',
        sesMessageId: id,
        recipients: recipients.length,
        chunk,
      });
      return id;
    } catch (err) {
      const facts = err instanceof SesCallError ? err.facts : sesErrorFacts(err);
      const errorClass = classifySesError(facts);
      deps.observe?.(errorClass, performance.now() - startedAt, recipients.length);
      // A status met before SES answered is another service's (STS refusing a token), said so.
      const origin = facts.answered === false ? ', before SES answered' : '';
      const status = facts.httpStatus ? ` (HTTP ${facts.httpStatus}${origin})` : '';
      const evidence = `${facts.name}${status}: ${facts.message}`;
      trace(data.queueId, {
        type: 'ses-call',
        at: Date.now(),
        outcome: errorClass,
        recipients: recipients.length,
        chunk,
        error: evidence,
      });
      throw new SendFailure(errorClass, evidence);
    }
  };
}
