// Who may talk to the listener and whose mail it takes: network allowlist (checked at connect) and
// sender allowlist (checked at MAIL FROM). Pure decisions; the listener turns them into replies.
import net from 'node:net';
import type { Cidr } from '../config/index.js';

export interface NetworkPolicy {
  allows(ip: string): boolean;
}

/** "::ffff:10.1.2.3" (an IPv4 client on a dual-stack socket) is checked as 10.1.2.3. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export function createNetworkPolicy(cidrs: readonly Cidr[]): NetworkPolicy {
  const list = new net.BlockList();
  for (const cidr of cidrs) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return {
    allows(ip) {
      const address = plainIp(ip);
      const version = net.isIP(address);
      if (version === 0) return false;
      return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * Entries are lower-cased addresses ("app@example.com") or domains ("@example.com"). An empty list
 * allows any sender. The null sender is allowed only when the list is empty: with a list, SES would
 * take the From header instead, which the list could not vouch for.
 */
export function senderAllowed(entries: readonly string[], sender: string): boolean {
  if (entries.length === 0) return true;
  if (sender === '') return false;
  const lower = sender.toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@'));
  return entries.includes(lower) || entries.includes(domain);
}
