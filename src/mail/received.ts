// The trace field an SMTP server adds to every message it accepts for relay (RFC 5321 §4.4):
//   Received: from <HELO name> ([<client IP>])
//           by <SMTP_NAME> (ses-relay) with <ESMTPSA…> id <queue id>;
//           <date>
// No "for <recipient>" clause: it would show a Bcc recipient in the copy that recipient gets. No
// AUTH user name (as Postfix, by default). Turned off with SMTP_RECEIVED_HEADER=false.
import net from 'node:net';

export interface ReceivedInfo {
  /** The name the client gave in EHLO/HELO, as sent (untrusted). */
  helo: string | undefined;
  /** The client's IP address (after PROXY protocol, the original client's). */
  clientIp: string;
  /** SMTP_NAME. */
  hostname: string;
  /** smtp-server's transmission type: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA (RFC 3848). */
  protocol: string;
  queueId: string;
  now: Date;
}

/** Longest HELO name kept: a domain name's maximum. */
const MAX_HELO = 255;
/** Characters of a domain name or an address literal; anything else in a HELO name is replaced. */
const UNSAFE = /[^A-Za-z0-9.\-_:[\]]/g;
const PROTOCOLS = new Set(['SMTP', 'ESMTP', 'ESMTPS', 'ESMTPA', 'ESMTPSA']);

/** The RFC 5322 date-time of a trace field, in UTC. */
export function traceDate(now: Date): string {
  return now.toUTCString().replace('GMT', '+0000');
}

/** `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3); an IPv4-mapped address as IPv4. */
function addressLiteral(ip: string): string {
  const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (net.isIPv4(plain)) return `[${plain}]`;
  if (net.isIPv6(plain)) return `[IPv6:${plain}]`;
  return '[unknown]';
}

/** The field's value, folded over three lines with `eol` (each well under 998 characters). */
export function receivedValue(info: ReceivedInfo, eol: string): string {
  const helo = (info.helo ?? '').slice(0, MAX_HELO).replace(UNSAFE, '_') || 'unknown';
  const protocol = PROTOCOLS.has(info.protocol) ? info.protocol : 'ESMTP';
  return (
    `from ${helo} (${addressLiteral(info.clientIp)})${eol}` +
    `\tby ${info.hostname} (ses-relay) with ${protocol} id ${info.queueId};${eol}` +
    `\t${traceDate(info.now)}`
  );
}
