import { describe, expect, it } from 'vitest';
import { findLongLine, messageProblem } from '../../src/mail/message-check.js';
import { prepareMessage } from '../../src/mail/prepare.js';
import { contentError } from '../../src/smtp/data-refusals.js';

const opts = { queueId: 'Q1', hostname: 'relay.test', now: new Date('2026-11-22T10:00:00Z') };

function problemOf(message: string) {
  const prepared = prepareMessage(Buffer.from(message, 'latin1'), { ...opts, dropIdentityHeaders: true });
  return messageProblem({ ...prepared, longLine: findLongLine(prepared.raw) });
}

describe('a Bcc or X-SES-* field after a bare CR', () => {
  it('is refused with 550 5.6.0: a parser that ends lines at a lone CR would read it', () => {
    const hidden = [
      'From: a@example.com\r\nTo: b@example.net\rBcc: boss@secret.example\r\n\r\nbody\r\n',
      'From: a@example.com\r\nSubject: hi\rX-SES-SOURCE-ARN: arn:aws:ses:us-east-1:1:identity/x\r\n\r\nb\r\n',
      'From: a@example.com\r\nSubject: hi\r\n folded\rx-ses-configuration-set : other\r\n\r\nb\r\n',
      // Classic Mac line endings: the whole message is one line to the gateway.
      'From: a@example.com\rTo: b@example.net\rResent-Bcc: c@example.org\r\rbody',
      // A Sender the author check of a user's allowedSenders would not see.
      'From: a@example.com\r\nSubject: s\rSender: other@example.org\r\n\r\nb\r\n',
    ];
    expect(hidden.map((message) => problemOf(message))).toEqual([
      { kind: 'field-after-bare-cr', name: 'Bcc' },
      { kind: 'field-after-bare-cr', name: 'X-SES-SOURCE-ARN' },
      { kind: 'field-after-bare-cr', name: 'x-ses-configuration-set' },
      { kind: 'field-after-bare-cr', name: 'Resent-Bcc' },
      { kind: 'field-after-bare-cr', name: 'Sender' },
    ]);
    const error = contentError({ kind: 'field-after-bare-cr', name: 'Bcc' });
    expect(`${error.responseCode} ${error.message}`).toBe(
      '550 5.6.0 Header field Bcc follows a CR not followed by LF; SES may read it as a field of its own',
    );
  });

  it('leaves other bare CRs alone: in a value, before a continuation, in the body', () => {
    for (const message of [
      'From: a@example.com\r\nSubject: line one\rline two\r\n\r\nbody\r\n',
      'From: a@example.com\r\nSubject: a\r Bcc: folded into the subject\r\n\r\nbody\r\n',
      'From: a@example.com\r\nSubject: s\r\n\r\nbody\rBcc: text\r\n',
      'From: a@example.com\r\nSubject: s\r\nbody line\rBcc: text, no blank line\r\n',
    ]) {
      expect(problemOf(message), JSON.stringify(message)).toBeUndefined();
    }
  });
});
