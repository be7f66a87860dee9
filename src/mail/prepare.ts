// Turns the bytes a client sent into the bytes SES receives, once, at intake:
// - `Bcc:` and `Resent-Bcc:` are removed (recipients travel in the envelope, never in the headers);
// - `X-SES-CONFIGURATION-SET` / `X-SES-MESSAGE-TAGS` (set by apps that used SES SMTP) become
//   ConfigurationSetName / EmailTags and are removed;
// - `Date` and `Message-ID` are added when missing or empty (an empty one is replaced, so the
//   message never carries two), as a submission server does (RFC 6409 §8);
// - exact repeats of a field SES takes once are dropped (differing ones are reported);
// - a message without a blank line gets one after its header section (SES needs header and body);
// - a `Received:` trace field goes first (received.ts), unless turned off;
// - for an authenticated user, `X-SES-SOURCE-ARN`, `X-SES-FROM-ARN` and `X-SES-RETURN-PATH-ARN` are
//   removed: SES honours them when no identity ARN parameter is sent, so one user could send with
//   an identity the operator bound to another (the users file's fromEmailAddressIdentityArn).
//   Clients trusted by network alone keep them, as SES SMTP honoured them;
// - a Bcc, From, Sender or X-SES-* field hidden after a bare CR, which none of the above would see,
//   is reported (hidden-fields.ts).
import { headerValue, joinMessage, lineCount, newField, splitMessage, type HeaderField } from './headers.js';
import { authorAddresses } from './author-addresses.js';
import { fieldAfterBareCr } from './hidden-fields.js';
import { receivedValue, traceDate, type ReceivedInfo } from './received.js';
import { dedupeSingleFields } from './single-fields.js';
import type { EmailTag } from './tags.js';

export type { EmailTag } from './tags.js';

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
  /** Whether the From field has an `@` at all: SES refuses `From: root` (cron's) for good. */
  fromHasDomain: boolean;
  /** A field SES takes once that the message has twice with different values (SES refuses it). */
  duplicateField: string | undefined;
  /** A field the gateway acts on written after a bare CR inside another field (hidden-fields.ts). */
  fieldAfterBareCr: string | undefined;
  /** The X-SES-*-ARN fields removed (dropIdentityHeaders), by name as the client wrote them. */
  droppedIdentityHeaders: string[];
  /** The From and Sender mailboxes (author-addresses.ts); parsed when first asked for. */
  authors(): string[];
  /**
   * The client's number for a line of `raw` (1-based), so replies name the line as it was sent;
   * undefined for a line the gateway added.
   */
  clientLine(line: number): number | undefined;
}

const REMOVED_HEADERS = new Set(['bcc', 'resent-bcc', 'x-ses-configuration-set', 'x-ses-message-tags']);
/** SES sending-authorization fields, removed when the client authenticated (see the top). */
const IDENTITY_HEADERS = new Set(['x-ses-source-arn', 'x-ses-from-arn', 'x-ses-return-path-arn']);

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

/**
 * The msg-id of a Message-ID field without its angle brackets: the first `<…>` (RFC 5322 §3.6.4
 * allows comments around it, `<id@host> (sent by X)`), else the value as written, trimmed.
 */
export function stripAngles(value: string): string {
  const bracketed = /<([^<>]*)>/.exec(value);
  return bracketed ? bracketed[1]!.trim() : value.trim();
}

export interface PrepareOptions {
  queueId: string;
  hostname: string;
  now?: Date;
  /** The session the message came in on, for the Received field; none is added without it. */
  received?: Omit<ReceivedInfo, 'queueId' | 'hostname' | 'now'> | undefined;
  /** Remove the X-SES-*-ARN sending-authorization fields (an authenticated client's message). */
  dropIdentityHeaders?: boolean;
}

/** The X-SES-* fields' verdicts: the last valid configuration set, every valid tag. */
function sesParameters(fields: HeaderField[]) {
  let configurationSet: string | undefined;
  const tags: EmailTag[] = [];
  const rejectedTags: string[] = [];
  for (const field of fields) {
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
  return { configurationSet, tags, rejectedTags };
}

/**
 * Maps the prepared message's line numbers to the client's. The header section keeps the client's
 * fields in order (some removed, some added in front); the body is the client's, shifted by the
 * difference in header lines (and by the blank line added to a message that had none).
 */
function lineMap(client: HeaderField[], prepared: HeaderField[], separated: boolean) {
  const firstLine = new Map<HeaderField, number>();
  let clientLines = 0;
  for (const field of client) {
    firstLine.set(field, clientLines + 1);
    clientLines += lineCount(field.text);
  }
  const headerOrigins: (number | undefined)[] = [];
  for (const field of prepared) {
    const start = firstLine.get(field);
    const lines = lineCount(field.text);
    for (let i = 0; i < lines; i++) headerOrigins.push(start === undefined ? undefined : start + i);
  }
  const bodyShift = clientLines - headerOrigins.length - (separated ? 0 : 1);
  return (line: number): number | undefined => {
    if (line <= headerOrigins.length) return headerOrigins[line - 1];
    if (!separated && line === headerOrigins.length + 1) return undefined;
    return line + bodyShift;
  };
}

export function prepareMessage(input: Buffer, options: PrepareOptions): PreparedMessage {
  const message = splitMessage(input);
  const clientFields = message.fields;
  const { configurationSet, tags, rejectedTags } = sesParameters(clientFields);
  const droppedIdentityHeaders = options.dropIdentityHeaders
    ? clientFields.filter((field) => IDENTITY_HEADERS.has(field.key)).map((field) => field.name)
    : [];
  const removed = (field: HeaderField) =>
    REMOVED_HEADERS.has(field.key) ||
    (options.dropIdentityHeaders === true && IDENTITY_HEADERS.has(field.key));
  const single = dedupeSingleFields(clientFields.filter((field) => !removed(field) && !isEmptyField(field)));
  message.fields = single.fields;

  const now = options.now ?? new Date();
  const added = [];
  if (options.received) {
    const info = { ...options.received, queueId: options.queueId, hostname: options.hostname, now };
    added.push(newField('Received', receivedValue(info, message.eol), message.eol));
  }
  if (headerValue(message, 'date') === undefined) added.push(newField('Date', traceDate(now), message.eol));
  let messageId = headerValue(message, 'message-id');
  if (messageId === undefined) {
    messageId = `${options.queueId}@${options.hostname}`;
    added.push(newField('Message-ID', `<${messageId}>`, message.eol));
  }
  // Added fields go first, ahead of the client's, as a trace field would.
  message.fields = [...added, ...message.fields];
  const preparedFields = message.fields;
  let clientLine: ((line: number) => number | undefined) | undefined;
  let authors: string[] | undefined;
  const from = headerValue(message, 'from') ?? '';

  return {
    raw: joinMessage(message),
    hasFrom: from !== '',
    fromHasDomain: from.includes('@'),
    messageId: stripAngles(messageId),
    configurationSet,
    tags,
    rejectedTags,
    duplicateField: single.conflict,
    fieldAfterBareCr: fieldAfterBareCr(clientFields),
    droppedIdentityHeaders,
    // Parsed only for a user with an allow-list, not for every message.
    authors: () => (authors ??= authorAddresses(preparedFields)),
    // Built only when a reply needs it (a refused line), not for every message.
    clientLine: (line) => (clientLine ??= lineMap(clientFields, preparedFields, message.separated))(line),
  };
}
