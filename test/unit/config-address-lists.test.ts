// Entries of SMTP_ALLOWED_NETWORKS and SMTP_ALLOWED_SENDERS that could never match a client: refused
// at start-up with the entry named, not taken and then refusing the mail they were meant to let in.
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/config/parsers.js';
import { senderEntry } from '../../src/config/sender-entries.js';
import { problemsOf } from '../helpers/config-problems.js';

describe('CIDR entries', () => {
  it.each(['10.0.0.0/8/16', '10.0.0.0/1e1', '10.0.0.0/+8', '10.0.0.0/8.0', '::1/0x80'])(
    'refuses %s',
    (entry) => {
      expect(parseCidr(entry)).toBeUndefined();
    },
  );

  it('names the entry in the start-up message', () => {
    expect(problemsOf({ SMTP_ALLOWED_NETWORKS: '127.0.0.0/8, 10.0.0.0/8/16' })).toContain(
      'SMTP_ALLOWED_NETWORKS: "10.0.0.0/8/16" is not an IP address or CIDR range',
    );
  });

  it('still takes decimal prefixes and bare addresses', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseCidr('192.0.2.7')).toEqual({ address: '192.0.2.7', prefix: 32, family: 'ipv4' });
  });
});

describe('sender entries', () => {
  it.each(['<app@example.com>', 'app@example.com>', '@.', '@example..com', '@example.com.', '@exa_mple.com'])(
    'refuses %s, which no MAIL FROM could match',
    (entry) => {
      expect(senderEntry(entry)).toBeUndefined();
    },
  );

  it('names the entry in the start-up message', () => {
    expect(problemsOf({ SMTP_ALLOWED_SENDERS: '<crm@example.com>' })).toContain(
      'SMTP_ALLOWED_SENDERS: "<crm@example.com>" is neither an address nor an @domain entry',
    );
  });

  it('still takes addresses, @domains, IDN domains and address literals', () => {
    expect(senderEntry('App@Example.com')).toBe('app@example.com');
    expect(senderEntry('@sub.example-corp.com')).toBe('@sub.example-corp.com');
    expect(senderEntry('@Bücher.de')).toBe('@xn--bcher-kva.de');
    expect(senderEntry('root@[192.0.2.1]')).toBe('root@[192.0.2.1]');
  });
});
