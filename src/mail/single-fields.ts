// Header fields SES takes once only (header-fields.html): a message with two of them is refused for
// good after the 250. Copies that repeat the first one's value are harmless and dropped; copies
// that differ are a verdict on the message, answered at DATA (see message-check.ts). Only the
// message's own header section is looked at, never the headers of its MIME parts.
import type { HeaderField } from './headers.js';

export const SINGLE_OCCURRENCE_FIELDS = new Set([
  'from',
  'sender',
  'reply-to',
  'return-path',
  'subject',
  'message-id',
  'date',
  'to',
  'cc',
  'bcc',
  'content-type',
  'mime-version',
  'references',
  'in-reply-to',
  'list-unsubscribe',
]);

export interface SingleFieldsResult {
  fields: HeaderField[];
  /** The name (as first written) of a field that occurs more than once with different values. */
  conflict: string | undefined;
}

/** Drops exact repeats (same unfolded value) of single-occurrence fields; reports a differing one. */
export function dedupeSingleFields(fields: HeaderField[]): SingleFieldsResult {
  const first = new Map<string, HeaderField>();
  let conflict: string | undefined;
  const kept = fields.filter((field) => {
    if (!SINGLE_OCCURRENCE_FIELDS.has(field.key)) return true;
    const earlier = first.get(field.key);
    if (!earlier) {
      first.set(field.key, field);
      return true;
    }
    if (earlier.value !== field.value) conflict ??= earlier.name;
    return earlier.value !== field.value;
  });
  return { fields: kept, conflict };
}
