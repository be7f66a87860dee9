// One SES v2 SendEmail call with raw content. Destination is the envelope (so Bcc recipients get
// the mail without appearing in headers); FromEmailAddress is the envelope sender.
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { EmailTag } from '../mail/prepare.js';
import { sesErrorFacts, type SesErrorFacts } from './classify.js';

export interface SendRequest {
  from: string;
  recipients: string[];
  raw: Uint8Array;
  configurationSet?: string | undefined;
  tags: EmailTag[];
  /** Sending authorisation (cross-account): overrides X-SES-SOURCE-ARN / X-SES-FROM-ARN. */
  identityArn?: string | undefined;
}

/**
 * Recorded for a call SES answered with success but without a readable MessageId: the message was
 * accepted, and sending it again would deliver it twice.
 */
export const UNKNOWN_MESSAGE_ID = 'unknown';

/** A SendEmail call that failed: what the SDK threw, read as SesErrorFacts (with `answered`). */
export class SesCallError extends Error {
  readonly facts: SesErrorFacts;
  constructor(cause: unknown, answered: boolean) {
    const facts = { ...sesErrorFacts(cause), answered };
    super(facts.message, { cause });
    this.name = 'SesCallError';
    this.facts = facts;
  }
}

const isSuccess = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;

export async function sendRaw(client: SESv2Client, request: SendRequest): Promise<string> {
  const command = new SendEmailCommand({
    // With the null sender SES takes the From header.
    ...(request.from === '' ? {} : { FromEmailAddress: request.from }),
    Destination: { ToAddresses: request.recipients },
    Content: { Raw: { Data: request.raw } },
    ...(request.configurationSet ? { ConfigurationSetName: request.configurationSet } : {}),
    ...(request.tags.length > 0 ? { EmailTags: request.tags } : {}),
    ...(request.identityArn ? { FromEmailAddressIdentityArn: request.identityArn } : {}),
  });
  // The status of SES's answer as soon as its head arrives, before the body is read (inside the
  // deserializer): a body that then breaks off or stalls past SES_REQUEST_TIMEOUT leaves no trace
  // of the status in the error the SDK throws.
  let answerStatus: number | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      answerStatus = (out.response as { statusCode?: number } | undefined)?.statusCode ?? 0;
      return out;
    },
    { step: 'deserialize', priority: 'low', name: 'sesRelayAnswerStatus' },
  );
  let result;
  try {
    result = await client.send(command);
  } catch (err) {
    // A 2xx whose body could not be read (garbled, cut off, stalled): SES took the message.
    const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
      ?.httpStatusCode;
    if (isSuccess(answerStatus) || isSuccess(status)) return UNKNOWN_MESSAGE_ID;
    throw new SesCallError(err, answerStatus !== undefined);
  }
  return result.MessageId || UNKNOWN_MESSAGE_ID;
}
