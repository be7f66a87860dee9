// Whether the SMTP settings relay for anyone: a wide allowed network (which sends without AUTH) on a
// listener reachable from outside the host, and AUTH not required. Start-up warns; it does not refuse
// (a firewall or security group may narrow what reaches the port).
import net from 'node:net';
import type { Cidr } from './parsers.js';

/** Ranges this wide hold a large share of the Internet: /8 (IPv6: /16, thousands of ISPs' /32s). */
const WIDE_PREFIX = { ipv4: 8, ipv6: 16 } as const;

/** Ranges no one outside the site can send from, however wide a range inside them is. */
const PRIVATE = new net.BlockList();
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('::1', 128, 'ipv6');
const PRIVATE_PREFIX = { ipv4: 8, ipv6: 7 } as const;

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** A range this wide that is not all private or loopback space. */
function isWidePublic(cidr: Cidr): boolean {
  if (cidr.prefix > WIDE_PREFIX[cidr.family]) return false;
  // Private blocks are aligned, so a range at least as narrow as them, starting inside, stays inside.
  return !(cidr.prefix >= PRIVATE_PREFIX[cidr.family] && PRIVATE.check(cidr.address, cidr.family));
}

/** Loopback only: `localhost`, 127.0.0.0/8, ::1 (or ::ffff:127.x). A host name may resolve anywhere. */
function isLoopbackHost(host: string): boolean {
  const address = host.startsWith('::ffff:') && net.isIPv4(host.slice(7)) ? host.slice(7) : host;
  if (address.toLowerCase() === 'localhost') return true;
  const version = net.isIP(address);
  return version !== 0 && LOOPBACK.check(address, version === 4 ? 'ipv4' : 'ipv6');
}

export interface OpenRelaySettings {
  SMTP_HOST: string;
  SMTP_ALLOWED_NETWORKS: readonly Cidr[];
  SMTP_AUTH_REQUIRED: boolean;
}

/** What makes the listener an open relay, or undefined when it is not one. */
export function openRelayRisk(config: OpenRelaySettings): string | undefined {
  if (config.SMTP_AUTH_REQUIRED || isLoopbackHost(config.SMTP_HOST)) return undefined;
  const wide = config.SMTP_ALLOWED_NETWORKS.filter(isWidePublic).map((c) => `${c.address}/${c.prefix}`);
  if (wide.length === 0) return undefined;
  return (
    `SMTP_ALLOWED_NETWORKS includes ${wide.join(', ')} and SMTP_HOST ${config.SMTP_HOST} is not loopback: ` +
    'anyone who reaches the SMTP port may send mail through this SES account without AUTH. ' +
    "List only your clients' ranges, or set SMTP_AUTH_REQUIRED=true with SMTP_USERS_FILE"
  );
}
