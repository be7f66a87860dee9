// The mail a chaos run sends: a seeded mix of single-recipient, multi-recipient and large envelopes
// (over 50 recipients, so they leave as several SES calls), some addressed to Bcc recipients only.
// Each message carries `X-Test-Id` and no Message-ID, so the gateway adds `<queueId@SMTP_NAME>` and
// every SES request can be traced back to the queue id the client was given.
import type { Rng } from './rng.js';

export interface MessageSpec {
  marker: string;
  recipients: string[];
  /** No recipient in To/Cc: the envelope alone says who gets it. */
  bccOnly: boolean;
  /** A Bcc: header was sent too; the gateway must strip it before SES sees the bytes. */
  bccHeader: boolean;
  text: string;
}

export const ENVELOPE_FROM = 'app@example.com';

function recipientCount(rng: Rng): number {
  const roll = rng.next();
  if (roll < 0.6) return 1;
  if (roll < 0.8) return rng.int(2, 10);
  if (roll < 0.9) return rng.int(11, 50);
  return rng.int(51, 140);
}

function render(spec: Omit<MessageSpec, 'text'>, bodyLines: number): string {
  const visible = spec.bccOnly ? 'undisclosed-recipients:;' : spec.recipients.slice(0, 3).join(', ');
  const headers = [
    'From: App <app@example.com>',
    `To: ${visible}`,
    ...(spec.bccHeader ? [`Bcc: ${spec.recipients.slice(0, 5).join(', ')}`] : []),
    `Subject: chaos ${spec.marker}`,
    `X-Test-Id: ${spec.marker}`,
    'Date: Sun, 22 Nov 2026 10:00:00 +0000',
  ];
  const body = Array.from(
    { length: bodyLines },
    (_, i) => `line ${i} of ${spec.marker}: the quick brown fox.`,
  );
  return [...headers, '', ...body, ''].join('\r\n');
}

export function makeMessages(rng: Rng, scenario: string, count: number): MessageSpec[] {
  return Array.from({ length: count }, (_, index) => {
    const marker = `${scenario}-${index + 1}`;
    const recipients = Array.from(
      { length: recipientCount(rng) },
      (_, i) => `r${index + 1}-${i}@d${i % 7}.example.net`,
    );
    const bccOnly = rng.chance(0.15);
    const spec = { marker, recipients, bccOnly, bccHeader: bccOnly && rng.chance(0.5) };
    // Mostly small bodies, a few of ~40 KB.
    return { ...spec, text: render(spec, rng.chance(0.05) ? 800 : rng.int(2, 20)) };
  });
}

/** The X-Test-Id and the gateway-added Message-ID local part (the queue id) of raw bytes SES got. */
export function identify(raw: Buffer): { marker?: string; queueId?: string; hasBcc: boolean } {
  const head = raw.toString('latin1', 0, Math.min(raw.length, 4096)).split('\r\n\r\n')[0] ?? '';
  const marker = /^X-Test-Id:\s*(\S+)/im.exec(head)?.[1];
  const queueId = /^Message-ID:\s*<([^@>]+)@chaos\.test>/im.exec(head)?.[1];
  return { marker, queueId, hasBcc: /^Bcc:/im.test(head) };
}
