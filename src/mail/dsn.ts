// A delivery status notification (RFC 3464 multipart/report) for a message that was accepted
// with 250 and then failed for good, sent to its envelope sender with the original headers.
import { randomBytes } from 'node:crypto';
import { splitMessage } from './headers.js';

export interface DsnInput {
  reportingHost: string;
  from: string;
  to: string;
  queueId: string;
  arrivalDate: Date;
  /** An address alone takes `diagnostic` and `status`; a DsnRecipient may carry its own. */
  failedRecipients: (string | DsnRecipient)[];
  /** Why delivery failed, e.g. the SES error text (for recipients without their own). */
  diagnostic: string;
  /** RFC 3463 status of the failure, e.g. "5.0.0" (for recipients without their own). */
  status: string;
  original: Buffer;
  now?: Date;
}

/** A failed recipient whose reason differs from the message's, e.g. one whose chunk SES refused. */
export interface DsnRecipient {
  address: string;
  diagnostic?: string;
  status?: string;
}

interface ResolvedRecipient {
  address: string;
  diagnostic: string;
  status: string;
}

function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

/** Diagnostic text must stay one ASCII line. */
function oneLine(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 900);
}

/**
 * The original's header section for the text/rfc822-headers part: its fields up to the first line
 * that is not one, so no body text (a message that had no blank line, a stray line) is quoted back.
 */
function quotedHeader(original: Buffer): string {
  const fields = splitMessage(original).fields;
  const end = fields.findIndex((field) => field.key === '');
  return (end === -1 ? fields : fields.slice(0, end))
    .map((field) => field.text)
    .join('')
    .replace(/\r?\n/g, '\r\n');
}

function resolveRecipients(input: DsnInput): ResolvedRecipient[] {
  return input.failedRecipients.map((rcpt) => {
    const own = typeof rcpt === 'string' ? { address: rcpt } : rcpt;
    return {
      address: own.address,
      diagnostic: oneLine(own.diagnostic ?? input.diagnostic),
      status: own.status ?? input.status,
    };
  });
}

/** The human-readable list: recipients grouped by reason, groups in the order they first appear. */
function reasonGroups(recipients: ResolvedRecipient[]): string[] {
  const groups = new Map<string, string[]>();
  for (const rcpt of recipients) {
    const addresses = groups.get(rcpt.diagnostic) ?? [];
    addresses.push(rcpt.address);
    groups.set(rcpt.diagnostic, addresses);
  }
  return [...groups].flatMap(([diagnostic, addresses]) => [
    ...addresses.map((address) => `  <${address}>`),
    '',
    `Reason: ${diagnostic}`,
    '',
  ]);
}

export function buildDsn(input: DsnInput): Buffer {
  const boundary = `dsn-${randomBytes(12).toString('hex')}`;
  const now = input.now ?? new Date();
  const headerText = quotedHeader(input.original);
  const recipients = resolveRecipients(input);
  const perRecipient = recipients
    .map((rcpt) =>
      [
        `Final-Recipient: rfc822; ${rcpt.address}`,
        'Action: failed',
        `Status: ${rcpt.status}`,
        `Diagnostic-Code: X-SES; ${rcpt.diagnostic}`,
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const lines = [
    `From: Mail Delivery System <${input.from}>`,
    `To: <${input.to}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${input.queueId}.dsn@${input.reportingHost}>`,
    // Marks the report as automatic so that well-behaved software never answers it (RFC 3834).
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is the mail gateway at ${input.reportingHost}.`,
    '',
    'Your message could not be delivered to the following recipients:',
    '',
    ...reasonGroups(recipients),
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${input.reportingHost}`,
    `X-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    headerText.trimEnd(),
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
