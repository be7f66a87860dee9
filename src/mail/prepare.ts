// Turns the bytes a client sent into the bytes SES receives, once, at intake:
// - `Bcc:` and `Resent-Bcc:` are removed (recipients travel in the envelope, never in the headers);
// - `X-SES-CONFIGURATION-SET` / `X-SES-MESSAGE-TAGS` (set by apps that used SES SMTP) become
//   ConfigurationSetName / EmailTags and are removed;
// - `Date` and `Message-ID` are added when missing or empty (an empty one is replaced, so the
//   message never carries two), as a submission server does (RFC 6409 §8).
import { headerValue, joinMessage, newField, splitMessage } from './headers.js';

export interface EmailTag {
  Name: string;
  Value: string;
}

export interface PreparedMessage {
  raw: Buffer;
  /** The client's Message-ID (or the one added), without angle brackets. */
  messageId: string;
  configurationSet: string | undefined;
  tags: EmailTag[];
  /** Tag entries that SES would refuse, dropped with a warning. */
  rejectedTags: string[];
  /** Whether the message has a non-empty From field (SES requires one). */
  hasFrom: boolean;
}

const REMOVED_HEADERS = new Set(['bcc', 'resent-bcc', 'x-ses-configuration-set', 'x-ses-message-tags']);

/** A Date or Message-ID field with nothing in it, which the gateway replaces. */
function isEmptyField(field: { key: string; value: string }): boolean {
  return (
    (field.key === 'date' && field.value.trim() === '') ||
    (field.key === 'message-id' && stripAngles(field.value) === '')
  );
}
/** SES tag names and values: ASCII letters, digits, '_' and '-', at most 256 characters. */
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;
const CONFIG_SET_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function parseTagHeader(value: string): { tags: EmailTag[]; rejected: string[] } {
  const tags: EmailTag[] = [];
  const rejected: string[] = [];
  for (const entry of value.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    const name = eq === -1 ? '' : trimmed.slice(0, eq).trim();
    const tagValue = eq === -1 ? '' : trimmed.slice(eq + 1).trim();
    if (TAG_PART.test(name) && TAG_PART.test(tagValue)) tags.push({ Name: name, Value: tagValue });
    else rejected.push(trimmed);
  }
  return { tags, rejected };
}

export function stripAngles(value: string): string {
  return value.trim().replace(/^<|>$/g, '');
}

export interface PrepareOptions {
  queueId: string;
  hostname: string;
  now?: Date;
}

export function prepareMessage(input: Buffer, options: PrepareOptions): PreparedMessage {
  const message = splitMessage(input);
  let configurationSet: string | undefined;
  const tags: EmailTag[] = [];
  const rejectedTags: string[] = [];

  for (const field of message.fields) {
    if (field.key === 'x-ses-configuration-set' && CONFIG_SET_NAME.test(field.value)) {
      configurationSet = field.value;
    } else if (field.key === 'x-ses-configuration-set') {
      rejectedTags.push(`configuration set "${field.value}"`);
    } else if (field.key === 'x-ses-message-tags') {
      const parsed = parseTagHeader(field.value);
      tags.push(...parsed.tags);
      rejectedTags.push(...parsed.rejected);
    }
  }
  message.fields = message.fields.filter((field) => !REMOVED_HEADERS.has(field.key) && !isEmptyField(field));

  const added = [];
  if (headerValue(message, 'date') === undefined) {
    added.push(
      newField('Date', (options.now ?? new Date()).toUTCString().replace('GMT', '+0000'), message.eol),
    );
  }
  let messageId = headerValue(message, 'message-id');
  if (messageId === undefined) {
    messageId = `${options.queueId}@${options.hostname}`;
    added.push(newField('Message-ID', `<${messageId}>`, message.eol));
  }
  // Added fields go first, ahead of the client's, as a trace field would.
  message.fields = [...added, ...message.fields];

  return {
    raw: joinMessage(message),
    hasFrom: (headerValue(message, 'from') ?? '') !== '',
    messageId: stripAngles(messageId),
    configurationSet,
    tags,
    rejectedTags,
  };
}
