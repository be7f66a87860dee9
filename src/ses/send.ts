// One SES v2 SendEmail call with raw content. Destination is the envelope (so Bcc recipients get
// the mail without appearing in headers); FromEmailAddress is the envelope sender.
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { EmailTag } from '../mail/prepare.js';

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

function answeredWithSuccess(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 200 && status < 300;
}

export async function sendRaw(client: SESv2Client, request: SendRequest): Promise<string> {
  let result;
  try {
    result = await client.send(
      new SendEmailCommand({
        // With the null sender SES takes the From header.
        ...(request.from === '' ? {} : { FromEmailAddress: request.from }),
        Destination: { ToAddresses: request.recipients },
        Content: { Raw: { Data: request.raw } },
        ...(request.configurationSet ? { ConfigurationSetName: request.configurationSet } : {}),
        ...(request.tags.length > 0 ? { EmailTags: request.tags } : {}),
        ...(request.identityArn ? { FromEmailAddressIdentityArn: request.identityArn } : {}),
      }),
    );
  } catch (err) {
    // A 2xx whose body could not be read: SES took the message.
    if (answeredWithSuccess(err)) return UNKNOWN_MESSAGE_ID;
    throw err;
  }
  return result.MessageId || UNKNOWN_MESSAGE_ID;
}
