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

export async function sendRaw(client: SESv2Client, request: SendRequest): Promise<string> {
  const result = await client.send(
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
  if (!result.MessageId) throw new Error('SES accepted the call but returned no MessageId');
  return result.MessageId;
}
