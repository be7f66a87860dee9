// The replies that refuse a message at the end of DATA for what it is (its size, its header
// section, a fault SES would refuse it for later): each a permanent 5xx, said now rather than as a
// bounce after the 250.
import { SES_MAX_MESSAGE_BYTES } from '../config/index.js';
import { MAX_LINE_CHARS, type MessageProblem } from '../mail/message-check.js';
import { smtpError, type RelayError } from '../shared/errors.js';
import { MAX_HEADER_SECTION_BYTES } from '../mail/header-end.js';

/** The 550 for a message SES would refuse. */
export function contentError(problem: MessageProblem): RelayError {
  switch (problem.kind) {
    case 'line-too-long':
      return smtpError(
        'SMTP_LINE_TOO_LONG',
        `${problem.line === undefined ? 'A line' : `Line ${problem.line}`} of the message is ${problem.length} characters long; the limit is ${MAX_LINE_CHARS} (RFC 5322)`,
      );
    case 'duplicate-field':
      return smtpError(
        'SMTP_DUPLICATE_FIELD',
        `Message has more than one ${printableName(problem.name)} header field with different values (SES accepts one)`,
      );
    case 'field-after-bare-cr':
      return smtpError(
        'SMTP_FIELD_AFTER_BARE_CR',
        `Header field ${printableName(problem.name)} follows a CR not followed by LF; SES may read it as a field of its own`,
      );
    case 'no-from':
      return smtpError(
        'SMTP_FROM_MISSING',
        'Message has no From header field (RFC 5322, and SES requires it)',
      );
    case 'from-without-domain':
      return smtpError(
        'SMTP_FROM_WITHOUT_DOMAIN',
        'The From header field has no address with a domain (user@domain); SES refuses it',
      );
  }
}

/** Field names come from the client: replies stay printable ASCII. */
function printableName(name: string): string {
  return name.replace(/[^\x21-\x7e]/g, '?').slice(0, 76);
}

export function headerTooBigError(): RelayError {
  return smtpError(
    'SMTP_HEADER_TOO_BIG',
    `Header section exceeds ${MAX_HEADER_SECTION_BYTES / 1024 / 1024} MiB`,
  );
}

/** Date and Message-ID added by the gateway can take a message at the size limit past SES's. */
export function tooBigForSesError(size: number): RelayError {
  return smtpError(
    'SMTP_MESSAGE_TOO_BIG_FOR_SES',
    `Message is ${size} bytes as prepared for SES, over the ${SES_MAX_MESSAGE_BYTES} bytes SES accepts`,
  );
}
