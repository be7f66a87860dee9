// Shared by the tests of messages whose recipient chunks SES answers differently: the DSN sender,
// the SES refusal that chunk 2 gets, the outage chunk 3 gets, and the recipients r<from>..r<to - 1>.
import type { SesErrorReply } from '../helpers/fake-ses.js';

export const DSN_FROM = 'mailer-daemon@relay.example.com';

export const NOT_VERIFIED: SesErrorReply = {
  status: 400,
  type: 'MessageRejected',
  message: 'Email address is not verified. The following identities failed the check: r50@example.net',
};

export const UNAVAILABLE: SesErrorReply = { status: 503, type: 'ServiceUnavailable', message: 'try later' };

export const rcpts = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `r${from + i}@example.net`);
