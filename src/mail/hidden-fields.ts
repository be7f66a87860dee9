// Header fields the gateway acts on (Bcc and Resent-Bcc removed, X-SES-* read or removed, From and
// Sender checked against a user's allowedSenders) written after a bare CR, a CR not followed by LF,
// inside another field's line. The gateway ends lines at LF only, so it sees no such field there; a
// parser that also ends lines at a lone CR, as JavaMail's does (whose error texts SES answers with),
// reads one, and SES would send a Bcc list to every recipient, honour an X-SES-SOURCE-ARN the
// gateway removes from an authenticated user's mail, or take a Sender the user may not name.
// RFC 5322 §2.2 allows CR only in CRLF, so such a message is refused at DATA (message-check.ts).
import type { HeaderField } from './headers.js';

const BARE_CR = /\r(?!\n)/;
/** A field name and its colon at the start of what follows a bare CR (headers.ts's FIELD_LINE). */
const FIELD_START = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

const ACTED_ON = new Set(['bcc', 'resent-bcc', 'from', 'sender']);

function actedOn(key: string): boolean {
  return ACTED_ON.has(key) || key.startsWith('x-ses-');
}

/** The name of the first such field, as written, or undefined. */
export function fieldAfterBareCr(fields: readonly HeaderField[]): string | undefined {
  for (const field of fields) {
    if (!BARE_CR.test(field.text)) continue;
    for (const piece of field.text.split(BARE_CR).slice(1)) {
      const name = FIELD_START.exec(piece)?.[1];
      if (name !== undefined && actedOn(name.toLowerCase())) return name;
    }
  }
  return undefined;
}
